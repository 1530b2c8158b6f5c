// path.js: Node's path module, POSIX flavour (path.posix; path.win32 is the same object).
// Module factory: (module, exports, require, natives).
'use strict';

function assertPath(p) {
  if (typeof p !== 'string') throw new TypeError('The "path" argument must be of type string. Received ' + typeof p);
}

function normalizeParts(p, allowAboveRoot) {
  const out = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (allowAboveRoot) out.push('..');
      continue;
    }
    out.push(seg);
  }
  return out;
}

function normalize(p) {
  assertPath(p);
  if (p.length === 0) return '.';
  const abs = p[0] === '/';
  const trailing = p[p.length - 1] === '/';
  let s = normalizeParts(p, !abs).join('/');
  if (s.length === 0 && !abs) s = '.';
  if (s.length > 0 && trailing) s += '/';
  return abs ? '/' + s : s;
}

function join(...parts) {
  let joined = '';
  for (const p of parts) {
    assertPath(p);
    if (p.length > 0) joined = joined ? joined + '/' + p : p;
  }
  return joined ? normalize(joined) : '.';
}

function resolve(...parts) {
  let resolved = '';
  let abs = false;
  for (let i = parts.length - 1; i >= -1 && !abs; i--) {
    const p = i >= 0 ? parts[i] : natives.cwd();
    assertPath(p);
    if (p.length === 0) continue;
    resolved = p + '/' + resolved;
    abs = p[0] === '/';
  }
  const s = normalizeParts(resolved, !abs).join('/');
  return abs ? '/' + s : (s || '.');
}

function isAbsolute(p) { assertPath(p); return p.length > 0 && p[0] === '/'; }

function trimSlashes(p) {
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') end--;
  return p.slice(0, end);
}

function dirname(p) {
  assertPath(p);
  if (p.length === 0) return '.';
  p = trimSlashes(p);
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return trimSlashes(p.slice(0, i));
}

function basename(p, ext) {
  assertPath(p);
  p = trimSlashes(p);
  if (p === '/') return '';
  let b = p.slice(p.lastIndexOf('/') + 1);
  if (ext !== undefined && b !== ext && b.endsWith(ext)) b = b.slice(0, b.length - ext.length);
  return b;
}

function extname(p) {
  const b = basename(p);
  if (b === '..') return '';
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}

function relative(from, to) {
  const f = resolve(from).split('/').filter(Boolean);
  const t = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < f.length && i < t.length && f[i] === t[i]) i++;
  return f.slice(i).map(() => '..').concat(t.slice(i)).join('/');
}

function parse(p) {
  assertPath(p);
  const root = p[0] === '/' ? '/' : '';
  const base = basename(p);
  const ext = extname(p);
  let dir = dirname(p);
  if (dir === '.' && p.indexOf('/') < 0) dir = '';
  return { root, dir, base, ext, name: ext ? base.slice(0, base.length - ext.length) : base };
}

function format(o) {
  const dir = o.dir || o.root || '';
  const base = o.base || ((o.name || '') + (o.ext ? (o.ext[0] === '.' ? '' : '.') + o.ext : ''));
  if (!dir) return base;
  return dir === o.root ? dir + base : dir + '/' + base;
}

const path = { sep: '/', delimiter: ':', normalize, join, resolve, isAbsolute, dirname, basename, extname, relative, parse, format,
  toNamespacedPath: (p) => p };
path.posix = path;
path.win32 = path;
module.exports = path;
