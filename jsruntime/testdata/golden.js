#!/usr/bin/env node
// golden.js regenerates corpus/*/expected.json by running every case under real Node.js, the
// oracle for jsruntime's behaviour. It emulates the Lambda Node.js runtime's handler contract
// (callback or promise, first settlement wins, callbackWaitsForEmptyEventLoop, a sync return
// value ignored) and CloudFront Functions' handler(event) with TestFunction's output shape.
//
//   node jsruntime/testdata/golden.js            # all cases
//   node jsruntime/testdata/golden.js NAME...    # some cases
//   node jsruntime/testdata/golden.js $PWD/examples/*/*   # case folders elsewhere (absolute paths)
'use strict';
const fs = require('fs');
const path = require('path');
const util = require('util');

const corpus = path.join(__dirname, 'corpus');

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
    if (meta.runtime === 'cloudfront-functions') {
      // CloudFront always presents querystring, headers and cookies, empty or not.
      for (const k of ['querystring', 'headers', 'cookies']) event.request[k] = event.request[k] || {};
      if (event.response) for (const k of ['headers', 'cookies']) event.response[k] = event.response[k] || {};
      const src = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      const handler = new Function('require', 'console', '"use strict";\n' + src + '\nreturn handler;')(require, console);
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
  if (output && meta.runtime === 'cloudfront-functions') {
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
