#!/usr/bin/env node
// golden.js regenerates corpus/*/expected.json by running every case under real Node.js, the
// oracle for jsruntime's behaviour. It emulates the Lambda Node.js runtime's handler contract
// (callback or promise, first settlement wins, callbackWaitsForEmptyEventLoop, a sync return
// value ignored) and CloudFront Functions' handler(event) with TestFunction's output shape:
// runtimes cloudfront-js-1.0 and cloudfront-js-2.0 (and the alias cloudfront-functions), 2.0's
// import statements of the built-ins, and its `cloudfront` module with a KeyValueStore read
// from the case's kvs.json (CloudFront's import format) with cf.kvs()'s semantics.
//
//   node jsruntime/testdata/golden.js            # all cases
//   node jsruntime/testdata/golden.js NAME...    # some cases
//   node jsruntime/testdata/golden.js $PWD/examples/*/*   # case folders elsewhere (absolute paths)
'use strict';
const fs = require('fs');
const path = require('path');
const util = require('util');

const corpus = path.join(__dirname, 'corpus');

const cffRuntimes = ['cloudfront-functions', 'cloudfront-js-1.0', 'cloudfront-js-2.0'];

// cloudfrontModule emulates runtime 2.0's `cloudfront` module over a store (a Map, or null
// when no store is associated): get rejects a missing key, json parses, bytes is a Buffer.
function cloudfrontModule(store, edgeLocation) {
  const formats = ['string', 'json', 'bytes'];
  const handle = Object.freeze({
    get(key, options) {
      return new Promise((resolve) => {
        const format = options === undefined || options === null || options.format === undefined ? 'string' : options.format;
        if (!formats.includes(format)) throw new Error('Unknown format: ' + format + ' (want string, json or bytes)');
        if (!store.has(String(key))) throw new Error('KeyNotFound: the key ' + JSON.stringify(String(key)) + ' is not in the store');
        const v = store.get(String(key));
        resolve(format === 'json' ? JSON.parse(v) : format === 'bytes' ? Buffer.from(v, 'utf8') : v);
      });
    },
    exists(key) { return Promise.resolve(store.has(String(key))); },
    meta() { return Promise.resolve({ creationDateTime: '', lastUpdatedDateTime: '', keyCount: store.size }); },
  });
  const cf = {
    kvs(id) {
      if (!store) throw new Error('KVSNamespaceNotFound: no KeyValueStore is associated with this function');
      return handle;
    },
    updateRequestOrigin() {},
    selectRequestOriginById() {},
    createRequestOriginGroup() {},
  };
  Object.defineProperty(cf, 'edgeLocation', { enumerable: true, get: () => edgeLocation });
  return cf;
}

// esmImports rewrites 2.0's import statements of built-ins into requires (the harness's own
// rewrite: Node runs the rest of the code unchanged).
function esmImports(src) {
  return src
    .replace(/^\s*import\s+\*\s+as\s+([\w$]+)\s+from\s+['"]([^'"]+)['"];?/gm, 'const $1 = require("$2");')
    .replace(/^\s*import\s+\{([^}]*)\}\s+from\s+['"]([^'"]+)['"];?/gm, (m, names, mod) =>
      'const {' + names.replace(/\s+as\s+/g, ': ') + '} = require("' + mod + '");')
    .replace(/^\s*import\s+([\w$]+)\s+from\s+['"]([^'"]+)['"];?/gm, 'const $1 = require("$2");');
}

function errorText(e) {
  if (e && typeof e === 'object' && 'message' in e) return (e.name || 'Error') + ': ' + e.message;
  return String(e);
}

async function runCase(dir) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const event = JSON.parse(fs.readFileSync(path.join(dir, 'event.json'), 'utf8'));
  const logs = [];
  const saved = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    saved[level] = console[level];
    console[level] = (...a) => logs.push(util.format(...a));
  }
  // Track pending timers so "the event loop is empty" can be observed.
  let pending = 0;
  const timers = new Set();
  const realSetTimeout = global.setTimeout;
  const realClearTimeout = global.clearTimeout;
  global.setTimeout = (fn, ms, ...args) => {
    pending++;
    const t = realSetTimeout(() => { timers.delete(t); pending--; fn(...args); }, ms);
    timers.add(t);
    return t;
  };
  global.clearTimeout = (t) => { if (timers.delete(t)) pending--; realClearTimeout(t); };

  let settled = null;
  const settle = (kind, value) => { if (!settled) settled = { kind, value }; };
  try {
    if (cffRuntimes.includes(meta.runtime)) {
      // CloudFront always presents querystring, headers and cookies, empty or not.
      for (const k of ['querystring', 'headers', 'cookies']) event.request[k] = event.request[k] || {};
      if (event.response) for (const k of ['headers', 'cookies']) event.response[k] = event.response[k] || {};
      const qs = Object.entries(event.request.querystring).flatMap(([k, v]) =>
        (v.multiValue || [v]).map((x) => k + '=' + x.value)).join('&');
      Object.defineProperty(event.request, 'rawQueryString', { value: () => qs, enumerable: false });
      let store = null;
      if (fs.existsSync(path.join(dir, 'kvs.json'))) {
        store = new Map(JSON.parse(fs.readFileSync(path.join(dir, 'kvs.json'), 'utf8')).data.map((it) => [it.key, it.value]));
      }
      const edge = event.context && event.context.eventType === 'viewer-response' ? undefined : { name: '', serverIp: '', region: '' };
      const cf = cloudfrontModule(store, edge);
      const req = (name) => (name === 'cloudfront' ? cf : require(name));
      let src = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      if (meta.runtime !== 'cloudfront-js-1.0') src = esmImports(src);
      const handler = new Function('require', 'console', '"use strict";\n' + src + '\nreturn handler;')(req, console);
      try {
        const r = await handler(event);
        settle('ok', r);
      } catch (e) {
        settle('err', e);
      }
    } else {
      const file = path.join(dir, 'index.js');
      for (const k of Object.keys(require.cache)) if (k.startsWith(dir)) delete require.cache[k];
      const mod = require(file);
      const context = {
        functionName: 'us-east-1.index', functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:us-east-1.index:$LATEST',
        memoryLimitInMB: '128', awsRequestId: '00000000-0000-4000-8000-000000000000',
        logGroupName: '/aws/lambda/us-east-1.index', logStreamName: '2024/01/01/[$LATEST]verge',
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => 5000,
      };
      const callback = (err, res) => {
        if (err !== null && err !== undefined) settle('cberr', err);
        else settle('cb', res);
      };
      context.succeed = (r) => callback(null, r);
      context.fail = (e) => callback(e === undefined || e === null ? 'handled' : e);
      context.done = callback;
      try {
        const ret = mod.handler.length >= 3 ? mod.handler(event, context, callback) : mod.handler(event, context, callback);
        if (ret && typeof ret.then === 'function') ret.then((v) => settle('ok', v), (e) => settle('err', e));
      } catch (e) {
        settle('err', e);
      }
      // Drive the loop: settle on the first result; a callback waits for pending timers unless
      // callbackWaitsForEmptyEventLoop is false; an empty loop with no result answers null.
      for (let i = 0; i < 5000; i++) {
        await new Promise((r) => setImmediate(r));
        if (settled && (settled.kind === 'ok' || settled.kind === 'err' || pending === 0 || !context.callbackWaitsForEmptyEventLoop)) break;
        if (!settled && pending === 0) { settle('ok', null); break; }
        await new Promise((r) => realSetTimeout(r, 1));
      }
      for (const t of timers) realClearTimeout(t);
    }
  } finally {
    Object.assign(console, saved);
    global.setTimeout = realSetTimeout;
    global.clearTimeout = realClearTimeout;
  }
  const failed = settled.kind === 'err' || settled.kind === 'cberr';
  let output = failed || settled.value === undefined ? null : JSON.parse(JSON.stringify(settled.value));
  if (output && cffRuntimes.includes(meta.runtime)) {
    if (!('cookies' in output)) output.cookies = {};
    output = { [('statusCode' in output) ? 'response' : 'request']: output };
  }
  return { output, logs, error: failed ? errorText(settled.value) : null };
}

(async () => {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : fs.readdirSync(corpus).sort();
  for (const name of names) {
    const dir = path.resolve(corpus, name);
    const res = await runCase(dir);
    fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(res, null, 2) + '\n');
    process.stdout.write(name + (res.error ? ' (error: ' + res.error + ')' : '') + '\n');
  }
})();
