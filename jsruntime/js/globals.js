// globals.js: the per-runtime prelude. It installs Node's timers (Lambda@Edge only) and
// queueMicrotask, and returns load, which makes the other globals (console, process, Buffer,
// URL, TextEncoder, crypto...) on their first read. Called once per runtime as
// (global, natives, require, opts).
'use strict';
// console's formatter loads on the first log: inspect.js was 13 of the 158 KiB of each warm
// runtime (bench/README.md), and many functions never log.
const format = (...a) => require('internal/inspect').format(...a);

// shown defines a global as Node 20 does the timers, queueMicrotask and global: enumerable.
function shown(name, value) {
  Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable: true });
}

// The natives are read where they are called, not kept in constants: a native's function object
// is made on its first read (natives.go), and many functions never log or set a timer.
const makeConsole = () => ({
  log: (...a) => natives.log('INFO', format(...a)),
  info: (...a) => natives.log('INFO', format(...a)),
  debug: (...a) => natives.log('DEBUG', format(...a)),
  warn: (...a) => natives.log('WARN', format(...a)),
  error: (...a) => natives.log('ERROR', format(...a)),
  trace: (...a) => natives.log('TRACE', 'Trace: ' + format(...a)),
  dir: (v) => natives.log('INFO', require('internal/inspect').inspect(v)),
  assert: (c, ...a) => { if (!c) natives.log('ERROR', 'Assertion failed' + (a.length ? ': ' + format(...a) : '')); },
  time: () => {}, timeEnd: () => {}, timeLog: () => {}, group: () => {}, groupEnd: () => {},
  table: (v) => natives.log('INFO', format(v)),
});

// Timers (Lambda@Edge only: CloudFront Functions have none, opts.timers is false) return
// Node-like Timeout objects (ref/unref/hasRef/refresh; usable as a number). The
// class is made with the first timer: many functions never set one. Its Symbol.toPrimitive
// comes from Go (opts.toPrimitive), not from the global Symbol, which user code may have
// replaced by then (and reading it would build the Symbol constructor in every runtime).
const toPrimitive = opts.toPrimitive;
let Timeout;
function timeout(id) {
  if (Timeout === undefined) {
    Timeout = class Timeout {
      constructor(id) { this._id = id; }
      ref() { return this; }
      unref() { return this; }
      hasRef() { return true; }
      refresh() { return this; }
      [toPrimitive]() { return this._id; }
    };
  }
  return new Timeout(id);
}
const clearAny = (t) => { if (t !== undefined && t !== null) natives.clearTimer(typeof t === 'object' ? t._id : t); };
if (opts.timers) {
  shown('setTimeout', (fn, ms, ...args) => timeout(natives.timer(fn, ms, false, args)));
  shown('setInterval', (fn, ms, ...args) => timeout(natives.timer(fn, ms, true, args)));
  shown('setImmediate', (fn, ...args) => timeout(natives.timer(fn, 0, false, args)));
  shown('clearTimeout', clearAny);
  shown('clearInterval', clearAny);
  shown('clearImmediate', clearAny);
}
// resolved is a settled promise to queue microtasks on, made on the first call: an async
// function's result is one, made by the intrinsic Promise whatever user code did to the global
// (and naming the global would build it in every runtime).
let resolved;
function queueMicrotask(fn) {
  if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function. Received ' + typeof fn);
  if (resolved === undefined) resolved = (async () => {})();
  resolved.then(() => fn());
}
shown('queueMicrotask', queueMicrotask);
shown('global', global);

// process is made on its first read, as Buffer is: Node has both as accessors of the global
// object, and few functions read either.
const start = opts.start;
function makeProcess() {
  const hrtime = (prev) => {
    const ns = natives.monoNanos();
    let s = Math.floor(ns / 1e9), n = ns % 1e9;
    if (prev) { s -= prev[0]; n -= prev[1]; if (n < 0) { s--; n += 1e9; } }
    return [s, n];
  };
  hrtime.bigint = () => BigInt(natives.monoNanos());
  return {
    env: opts.env,
    version: 'v20.0.0',
    versions: { node: '20.0.0' },
    platform: 'linux',
    arch: 'x64',
    argv: ['/var/lang/bin/node'],
    pid: 1,
    release: { name: 'node' },
    cwd: () => '/var/task',
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    hrtime,
    uptime: () => (natives.now() - start) / 1000,
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
    emitWarning: (w) => natives.log('WARN', String(w)),
    on() { return this; }, once() { return this; }, off() { return this; },
    exit: () => { throw new Error('process.exit is not supported in an edge function'); },
  };
}

// load returns the value of Node's global name, which the runtime makes on its first read
// (lazyGlobals in vm.go defines an accessor for each, in Go, and calls this): one function,
// rather than closures per global, as each closure is an object in every runtime.
function load(name) {
  switch (name) {
    case 'console': return makeConsole();
    case 'process': return makeProcess();
    case 'Buffer': return require('buffer').Buffer;
    case 'URL': return require('url').URL;
    case 'URLSearchParams': return require('url').URLSearchParams;
    case 'TextEncoder': return require('internal/text').TextEncoder;
    case 'TextDecoder': return require('internal/text').TextDecoder;
    case 'crypto': return require('crypto').webcrypto;
    case 'atob': return (s) => require('buffer').Buffer.from(String(s), 'base64').toString('latin1');
    case 'btoa': return (s) => require('buffer').Buffer.from(String(s), 'latin1').toString('base64');
  }
  throw new Error('jsruntime: globals.js makes no global ' + name);
}

// The allocation guards (String.prototype.repeat/padStart/padEnd, JSON.parse) are Go
// functions installed after this prelude (installGuards in guards.go): a guard written here
// would read globals that user code can replace.

// CloudFront Functions runtime 1.0's byte-string helpers (a "byte string" holds one byte per
// UTF-16 unit): for code that names one (program.go, namesByteStrings).
if (opts.byteStrings) {
  const bytesToStr = (u8) => { let s = ''; for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]); return s; };
  const strToBytes = (s) => { const u8 = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i) & 255; return u8; };
  const def = (o, name, fn) => Object.defineProperty(o, name, { value: fn, writable: true, configurable: true, enumerable: false });
  def(String, 'bytesFrom', (v, enc) => {
    if (typeof v !== 'string') return bytesToStr(Uint8Array.from(v));
    if (enc === 'hex' || enc === 'base64' || enc === 'base64url') return bytesToStr(new Uint8Array(natives.bufDecode(v, enc)));
    throw new TypeError('unknown encoding: ' + enc);
  });
  def(String.prototype, 'toBytes', function (start, end) {
    const s = String(this).slice(start, end);
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return null;
    return s;
  });
  def(String.prototype, 'fromBytes', function (start, end) { return String(this).slice(start, end); });
  def(String.prototype, 'toUTF8', function (start, end) {
    return bytesToStr(new Uint8Array(natives.bufDecode(String(this).slice(start, end), 'utf8')));
  });
  def(String.prototype, 'fromUTF8', function (start, end) {
    return natives.bufEncode(strToBytes(String(this).slice(start, end)), 'utf8');
  });
}
return load;
