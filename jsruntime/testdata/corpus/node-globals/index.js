// Node's globals (console, process, timers, Buffer, URL...) behave as own properties of the
// global object: Verge makes each on its first read, and reading, assigning and deleting one
// must answer as Node does, before that read and after it. (One thing differs, and
// docs/hooks.md says so: a name never read is not yet the global object's own, so
// deleting it or listing the object's own names does not see it.)
// The checks run in the handler, as Verge keeps no log of a module's top level. golden.js
// runs every case in one Node process: what this case deletes is put back at the end.
exports.handler = async (event) => {
  const saved = Object.getOwnPropertyDescriptors(globalThis);
  const out = [];
  out.push(['in', 'Buffer' in globalThis, 'console' in globalThis, 'nope' in globalThis]);
  out.push(['typeof', typeof setTimeout, typeof queueMicrotask, typeof URL, typeof TextDecoder, typeof crypto, typeof btoa, typeof process, typeof console]);
  const d = Object.getOwnPropertyDescriptor(globalThis, 'console');
  out.push(['console', d.writable, d.enumerable, d.configurable, typeof d.value, globalThis.hasOwnProperty('console')]);
  URLSearchParams = 5;
  out.push(['assign', URLSearchParams]);
  out.push(['read', typeof TextEncoder]);
  delete globalThis.TextEncoder;
  out.push(['delete-read', typeof TextEncoder, 'TextEncoder' in globalThis]);
  globalThis.btoa = 'x';
  out.push(['assign-unread', btoa]);
  delete globalThis.btoa;
  out.push(['delete-assigned', typeof btoa]);
  const p = Object.getPrototypeOf(globalThis);
  out.push(['proto', p !== Object.prototype, Object.getPrototypeOf(p) === Object.prototype, Object.keys(p).length]);
  try { nope; } catch (e) { out.push(['missing', e.name, e.message]); }
  out.push(['inherited', typeof globalThis.toString, globalThis.hasOwnProperty('hasOwnProperty')]);
  console.log(JSON.stringify(out));
  for (const name of ['URLSearchParams', 'TextEncoder', 'btoa']) if (saved[name]) Object.defineProperty(globalThis, name, saved[name]);

  // Globals made mid-invocation work as any other: the timer resumes the handler.
  await new Promise((resolve) => setTimeout(resolve, 1));
  console.log(typeof process.hrtime(), process.platform, new URL('https://a.example/b?c=d').searchParams.get('c'));
  return event.Records[0].cf.request;
};
