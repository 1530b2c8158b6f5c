#!/usr/bin/env node
// positions.js fills in the "want" of every case of positions.json with the position Node.js
// gives for the case's error: the first position in the case's file (or, through a source map,
// in its original source) of the error's stack, or of a syntax error's caret. TestPositionsAsNode
// compares Verge's positions with them.
//
//   node jsruntime/testdata/positions.js
//
// A Lambda@Edge case's file is required (imported, for .mjs) from another module and its
// handler called; one marked load fails while it is required. A CloudFront Functions case is
// run as a script (vm.runInThisContext) and its handler called; the stack is in the header
// x-s of the request it returns. Source maps are applied, as `node --enable-source-maps` does.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const vm = require('vm');

process.setSourceMapsEnabled(true);

const file = path.join(__dirname, 'positions.json');
const cases = JSON.parse(fs.readFileSync(file, 'utf8'));

// position returns "name:line:col" for the first position under dir in text, name relative to
// dir; for a syntax error (its stack starts "FILE:LINE", the line and a caret line) the caret's
// column. (Node puts the caret on other errors thrown by a vm script too: it is not theirs.)
function position(dir, text, syntaxError) {
  const syntax = syntaxError && text.match(/^(\S+):(\d+)\n[^\n]*\n( *)\^/);
  if (syntax) return path.relative(dir, syntax[1]) + ':' + syntax[2] + ':' + (syntax[3].length + 1);
  const re = new RegExp('(?:file://)?' + dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') + '/([\\w/.]+):(\\d+):(\\d+)');
  const m = text.match(re);
  return m ? m[1] + ':' + m[2] + ':' + m[3] : '';
}

async function run(c, dir) {
  const name = path.join(dir, c.file);
  fs.mkdirSync(path.dirname(name), { recursive: true });
  fs.writeFileSync(name, c.src);
  if (c.runtime.startsWith('cloudfront')) {
    try {
      vm.runInThisContext(c.src, { filename: name });
    } catch (e) {
      return position(dir, e.stack, e instanceof SyntaxError);
    }
    const r = globalThis.handler({ request: { headers: {} } });
    return position(dir, r.headers['x-s'].value);
  }
  let mod;
  try {
    mod = c.file.endsWith('.mjs') ? await import(name) : require(name);
  } catch (e) {
    return position(dir, e.stack, e instanceof SyntaxError);
  }
  try {
    await mod.handler({ Records: [{ cf: { request: { uri: '/', headers: {} } } }] });
  } catch (e) {
    return position(dir, e.stack);
  }
  return '';
}

(async () => {
  for (const c of cases) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'positions-'));
    c.want = await run(c, dir);
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(c.name + ': ' + c.want);
  }
  fs.writeFileSync(file, JSON.stringify(cases, null, 1) + '\n');
})();
