// Node's globals (console, process, timers, Buffer, URL...): reading, assigning, deleting and
// patching them must answer as Node does, before their first read and after it (Verge makes
// process, Buffer and the like on first read). The checks run in the handler, as Verge keeps no
// log of a module's top level. golden.js runs every case in one Node process: what this case
// changes is put back at the end.
exports.handler = async (event) => {
  const saved = Object.getOwnPropertyDescriptors(globalThis);
  const out = [];
  const kind = (name) => { const d = Object.getOwnPropertyDescriptor(globalThis, name); return d ? (d.get ? 'accessor' : 'data') + (d.enumerable ? '+e' : '') + (d.configurable ? '+c' : '') : 'none'; };
  // console is an accessor here until its first read, where Node has a data property (docs/hooks.md).
  out.push(['own', globalThis.hasOwnProperty('process'), globalThis.hasOwnProperty('Buffer'), globalThis.hasOwnProperty('console'), kind('process'), kind('Buffer')]);
  out.push(['in', 'Buffer' in globalThis, 'TextDecoder' in globalThis, 'nope' in globalThis]);
  // Assigned before any read: a data property, enumerable as the accessor was.
  globalThis.atob = 'x';
  out.push(['assign-unread', atob, kind('atob'), Object.keys(globalThis).includes('atob')]);
  // A getter kept from before the first read answers one value, and does not undo an assignment.
  const getDecoder = Object.getOwnPropertyDescriptor(globalThis, 'TextDecoder').get;
  const decoder = getDecoder();
  globalThis.TextDecoder = 5;
  out.push(['kept-getter', decoder === getDecoder(), TextDecoder]);
  globalThis.TextDecoder = decoder;
  out.push(['typeof', typeof setTimeout, typeof queueMicrotask, typeof URL, typeof URLSearchParams, typeof TextEncoder, typeof TextDecoder,
    typeof crypto, typeof atob, typeof btoa, typeof process, typeof Buffer, typeof console]);
  out.push(['after-read', kind('process'), kind('Buffer'), kind('TextDecoder'), kind('crypto'), kind('atob'), kind('URL'), kind('console')]);
  out.push(['enumerable'].concat(['setTimeout', 'clearImmediate', 'queueMicrotask', 'global', 'console', 'process', 'btoa'].map((n) => globalThis.propertyIsEnumerable(n))));
  // Assigned after a read, then deleted: gone.
  globalThis.btoa = 'x';
  out.push(['assign-read', btoa, Object.keys(globalThis).includes('btoa')]);
  delete globalThis.btoa;
  out.push(['delete-assigned', typeof btoa, 'btoa' in globalThis]);
  // Deleted after a read: gone.
  delete globalThis.TextEncoder;
  out.push(['delete-read', typeof TextEncoder, 'TextEncoder' in globalThis]);
  // The loop instrumentation (zone.js's patchMethod) uses to find and wrap a global.
  let calls = 0;
  let proto = globalThis;
  while (proto && !proto.hasOwnProperty('setTimeout')) proto = Object.getPrototypeOf(proto);
  const orig = proto.setTimeout;
  proto.setTimeout = function (fn, ms) { calls++; return orig.call(this, fn, ms); };
  await new Promise((resolve) => setTimeout(resolve, 1));
  out.push(['patched', proto === globalThis, calls]);
  try { nope; } catch (e) { out.push(['missing', e.name, e.message]); }
  // The built-ins Verge guards from Go keep their names and lengths.
  out.push(['names'].concat([String.prototype.repeat, String.prototype.padStart, String.prototype.padEnd, JSON.parse, JSON.stringify,
    RegExp.prototype.exec, RegExp.prototype.test, RegExp.prototype[Symbol.matchAll], Object.getPrototypeOf('a'.matchAll(/a/g)).next].map((f) => f.name + '/' + f.length)));
  console.log(JSON.stringify(out));
  for (const name of ['atob', 'btoa', 'TextEncoder', 'TextDecoder', 'setTimeout']) if (saved[name]) Object.defineProperty(globalThis, name, saved[name]);

  console.log(typeof process.hrtime(), process.platform, new URL('https://a.example/b?c=d').searchParams.get('c'));
  return event.Records[0].cf.request;
};
