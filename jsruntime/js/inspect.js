// inspect.js: util.format and util.inspect, close to Node's output for the values edge
// functions log (objects, arrays, strings, numbers, Buffers, Maps, Sets, Dates, errors).
// Module factory: (module, exports, require, natives).
'use strict';
const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const breakLength = 80;

function quote(s) {
  let q = "'";
  if (s.indexOf("'") >= 0) {
    if (s.indexOf('"') < 0) q = '"';
    else if (s.indexOf('`') < 0 && s.indexOf('${') < 0) q = '`';
  }
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (c === q || c === '\\') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (c === '\b') out += '\\b';
    else if (c === '\f') out += '\\f';
    else if (c === '\v') out += '\\v';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).toUpperCase().padStart(2, '0');
    else out += c;
  }
  return q + out + q;
}

// nodeStack rewrites a goja stack trace in Node's layout ("    at fn (file:line:col)"),
// dropping Verge's own frames and goja's program-counter suffixes.
function nodeStack(stack) {
  const out = [];
  for (const line of stack.split('\n')) {
    if (line === '') continue;
    const m = /^\s*at (.*)$/.exec(line);
    if (!m) { out.push(line); continue; }
    if (m[1].indexOf('verge:') >= 0) continue;
    out.push('    at ' + m[1].replace(/:(\d+):(\d+)\(\d+\)/g, ':$1:$2').replace(/^(\S+) \(native\)$/, '$1 (<anonymous>)'));
  }
  return out.join('\n');
}

function formatKey(k) {
  if (typeof k === 'symbol') return '[' + k.toString() + ']';
  return identRe.test(k) ? k : quote(k);
}

function formatPrimitive(v, ctx) {
  switch (typeof v) {
    case 'string': return quote(v);
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint': return String(v) + 'n';
    case 'boolean': return String(v);
    case 'undefined': return 'undefined';
    case 'symbol': return v.toString();
  }
  return v === null ? 'null' : undefined;
}

function fnBase(v) {
  const src = Function.prototype.toString.call(v);
  const name = v.name;
  if (src.slice(0, 5) === 'class') return '[class ' + (name || '(anonymous)') + ']';
  let kind = 'Function';
  const ctor = Object.getPrototypeOf(v) && Object.getPrototypeOf(v).constructor;
  if (ctor && ctor.name === 'AsyncFunction') kind = 'AsyncFunction';
  else if (ctor && ctor.name === 'GeneratorFunction') kind = 'GeneratorFunction';
  return '[' + kind + (name ? ': ' + name : ' (anonymous)') + ']';
}

function ctorName(v) {
  let p = Object.getPrototypeOf(v);
  if (p === null) return null;
  const d = Object.getOwnPropertyDescriptor(p, 'constructor');
  if (d && typeof d.value === 'function' && d.value.name) return d.value.name;
  return '';
}

function isBelowBreakLength(ctx, output, start, base) {
  let total = output.length + start;
  if (total + output.length > breakLength) return false;
  for (let i = 0; i < output.length; i++) {
    total += output[i].length;
    if (total > breakLength) return false;
  }
  return base === '' || base.indexOf('\n') < 0;
}

// groupArray lays short array entries out in columns, as Node does for arrays of more than six.
function groupArray(ctx, output, value, hasMore) {
  let n = output.length - (hasMore ? 1 : 0);
  let total = 0, maxLen = 0;
  const lens = [];
  for (let i = 0; i < n; i++) {
    lens.push(output[i].length);
    total += output[i].length + 2;
    if (output[i].length > maxLen) maxLen = output[i].length;
  }
  const actualMax = maxLen + 2;
  if (!(actualMax * 3 + ctx.indent < breakLength && (total / actualMax > 5 || maxLen <= 6))) return output;
  const bias = Math.sqrt(actualMax - total / output.length);
  const biasedMax = Math.max(actualMax - 3 - bias, 1);
  const columns = Math.min(Math.round(Math.sqrt(2.5 * biasedMax * n) / biasedMax),
    Math.floor((breakLength - ctx.indent) / actualMax), 12, 15);
  if (columns <= 1) return output;
  const widths = [];
  for (let c = 0; c < columns; c++) {
    let w = 0;
    for (let j = c; j < n; j += columns) if (lens[j] > w) w = lens[j];
    widths.push(w + 2);
  }
  let numeric = true;
  for (let i = 0; i < n; i++) {
    if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') { numeric = false; break; }
  }
  const rows = [];
  for (let i = 0; i < n; i += columns) {
    const end = Math.min(i + columns, n);
    let line = '';
    let j = i;
    for (; j < end - 1; j++) {
      const cell = output[j] + ', ';
      line += numeric ? cell.padStart(widths[j - i]) : cell.padEnd(widths[j - i]);
    }
    line += numeric ? output[j].padStart(widths[j - i] - 2) : output[j];
    rows.push(line);
  }
  if (hasMore) rows.push(output[output.length - 1]);
  return rows;
}

function reduce(ctx, output, base, braces, isArrayLike, depth, value, hasMore) {
  const entries = output.length;
  if (isArrayLike && entries > 6) output = groupArray(ctx, output, value, hasMore);
  if (ctx.currentDepth - depth < 3 && entries === output.length) {
    const start = output.length + ctx.indent + braces[0].length + base.length + 10;
    if (isBelowBreakLength(ctx, output, start, base)) {
      const joined = output.join(', ');
      if (joined.indexOf('\n') < 0) {
        return (base ? base + ' ' : '') + braces[0] + ' ' + joined + ' ' + braces[1];
      }
    }
  }
  const ind = '\n' + ' '.repeat(ctx.indent);
  return (base ? base + ' ' : '') + braces[0] + ind + '  ' + output.join(',' + ind + '  ') + ind + braces[1];
}

function formatValue(ctx, v, depth, top) {
  const p = formatPrimitive(v, ctx);
  if (p !== undefined) return (top && typeof v === 'string') ? v : p;
  if (ctx.seen.indexOf(v) >= 0) {
    ctx.circular = true;
    return '[Circular *1]';
  }
  return formatObject(ctx, v, depth);
}

function ownKeys(v, skipIndices) {
  const keys = Object.keys(v);
  const out = [];
  for (const k of keys) {
    if (skipIndices && /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < v.length) continue;
    out.push(k);
  }
  for (const s of Object.getOwnPropertySymbols(v)) {
    const d = Object.getOwnPropertyDescriptor(v, s);
    if (d && d.enumerable) out.push(s);
  }
  return out;
}

function prop(ctx, v, k, depth) {
  const d = Object.getOwnPropertyDescriptor(v, k) || { value: v[k] };
  let s;
  if (d.get || d.set) s = d.get && d.set ? '[Getter/Setter]' : d.get ? '[Getter]' : '[Setter]';
  else {
    ctx.indent += 2;
    s = formatValue(ctx, d.value, depth + 1, false);
    ctx.indent -= 2;
  }
  return formatKey(k) + ': ' + s;
}

function formatObject(ctx, v, depth) {
  const name = ctorName(v);
  let base = '';
  let braces = ['{', '}'];
  let isArrayLike = false;
  let keys;
  let output = [];
  let hasMore = false;
  const entryFns = [];

  if (typeof v === 'function') {
    base = fnBase(v);
    keys = ownKeys(v, false).filter((k) => k !== 'prototype');
    if (keys.length === 0) return base;
  } else if (Array.isArray(v)) {
    isArrayLike = true;
    braces = [(name === 'Array' ? '' : (name === null ? '[Array(' + v.length + '): null prototype] ' : name + '(' + v.length + ') ')) + '[', ']'];
    keys = ownKeys(v, true);
    if (v.length === 0 && keys.length === 0) return braces[0] + ']';
    entryFns.push(() => listArray(ctx, v, depth));
  } else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    if (name === 'Buffer') {
      let s = '';
      const max = Math.min(v.length, 50);
      for (let i = 0; i < max; i++) s += ' ' + (v[i] < 16 ? '0' : '') + v[i].toString(16);
      if (v.length > 50) s += ' ... ' + (v.length - 50) + ' more bytes';
      return '<' + name + s + '>';
    }
    isArrayLike = true;
    braces = [name + '(' + v.length + ') [', ']'];
    keys = ownKeys(v, true);
    if (v.length === 0 && keys.length === 0) return braces[0] + ']';
    entryFns.push(() => listArray(ctx, v, depth));
  } else if (v instanceof Map) {
    braces = [name + '(' + v.size + ') {', '}'];
    keys = ownKeys(v, false);
    if (v.size === 0 && keys.length === 0) return braces[0] + '}';
    entryFns.push(() => {
      const o = [];
      ctx.indent += 2;
      for (const [k, val] of v) o.push(formatValue(ctx, k, depth + 1, false) + ' => ' + formatValue(ctx, val, depth + 1, false));
      ctx.indent -= 2;
      return o;
    });
  } else if (v instanceof Set) {
    braces = [name + '(' + v.size + ') {', '}'];
    keys = ownKeys(v, false);
    if (v.size === 0 && keys.length === 0) return braces[0] + '}';
    isArrayLike = true;
    entryFns.push(() => {
      const o = [];
      ctx.indent += 2;
      for (const val of v) o.push(formatValue(ctx, val, depth + 1, false));
      ctx.indent -= 2;
      return o;
    });
  } else if (v instanceof Date) {
    base = isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    keys = ownKeys(v, false);
    if (keys.length === 0) return base;
  } else if (v instanceof RegExp) {
    base = RegExp.prototype.toString.call(v);
    keys = ownKeys(v, false).filter((k) => k !== 'lastIndex');
    if (keys.length === 0) return base;
  } else if (v instanceof Error) {
    base = v.stack ? nodeStack(String(v.stack)) : Error.prototype.toString.call(v);
    keys = ownKeys(v, false).filter((k) => k !== 'stack' && k !== 'message');
    if (keys.length === 0) return base;
  } else if (v instanceof Promise) {
    braces = ['Promise {', '}'];
    keys = ownKeys(v, false);
    if (keys.length === 0) return 'Promise {}';
  } else {
    keys = ownKeys(v, false);
    if (name === null) braces = ['[Object: null prototype] {', '}'];
    else if (name !== 'Object') braces = [(name || 'Object') + ' {', '}'];
    if (keys.length === 0) return braces[0] + '}';
  }

  if (depth > ctx.depth) {
    if (Array.isArray(v)) return '[Array]';
    return '[' + (name === null ? 'Object: null prototype' : (name || 'Object')) + ']';
  }
  ctx.seen.push(v);
  ctx.currentDepth = depth;
  for (const f of entryFns) {
    const r = f();
    if (r.more) hasMore = true;
    output = output.concat(r);
  }
  for (const k of keys) output.push(prop(ctx, v, k, depth));
  ctx.seen.pop();
  return reduce(ctx, output, base, braces, isArrayLike, depth, v, hasMore);
}

function listArray(ctx, v, depth) {
  const o = [];
  const max = Math.min(v.length, 100);
  let holes = 0;
  ctx.indent += 2;
  for (let i = 0; i < max; i++) {
    if (!Object.prototype.hasOwnProperty.call(v, i)) {
      holes++;
      continue;
    }
    if (holes) {
      o.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
      holes = 0;
    }
    o.push(formatValue(ctx, v[i], depth + 1, false));
  }
  ctx.indent -= 2;
  if (holes) o.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
  if (v.length > max) {
    o.push('... ' + (v.length - max) + ' more item' + (v.length - max > 1 ? 's' : ''));
    o.more = true;
  }
  return o;
}

function inspect(v, opts) {
  const ctx = { seen: [], indent: 0, currentDepth: 0, depth: 2, circular: false };
  if (opts && typeof opts === 'object' && opts.depth !== undefined) ctx.depth = opts.depth === null ? Infinity : opts.depth;
  const s = formatValue(ctx, v, 0, false);
  return ctx.circular ? '<ref *1> ' + s : s;
}

function formatArg(v) {
  if (typeof v === 'string') return v;
  return inspect(v);
}

function format(...args) {
  if (args.length === 0) return '';
  const first = args[0];
  let i = 1;
  let out = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let last = 0;
    for (let j = 0; j < first.length - 1; j++) {
      if (first[j] !== '%') continue;
      const c = first[j + 1];
      let rep;
      if (c === '%') {
        out += first.slice(last, j) + '%';
        last = j + 2;
        j++;
        continue;
      }
      if (i >= args.length) continue;
      const a = args[i];
      switch (c) {
        case 's':
          if (typeof a === 'bigint') rep = a + 'n';
          else if (typeof a === 'number') rep = Object.is(a, -0) ? '-0' : String(a);
          else if (typeof a === 'object' && a !== null) rep = inspect(a, { depth: 0 });
          else rep = String(a);
          break;
        case 'j':
          try { rep = JSON.stringify(a); } catch (e) { rep = '[Circular]'; }
          break;
        case 'd': case 'i':
          if (typeof a === 'bigint') rep = a + 'n';
          else if (typeof a === 'object' && a !== null) rep = 'NaN';
          else rep = String(c === 'i' ? parseInt(a) : Number(a));
          break;
        case 'f': rep = String(parseFloat(a)); break;
        case 'o': case 'O': rep = inspect(a, { depth: c === 'o' ? 4 : 2 }); break;
        case 'c': rep = ''; break;
        default: continue;
      }
      out += first.slice(last, j) + rep;
      last = j + 2;
      j++;
      i++;
    }
    out += first.slice(last);
  } else {
    out = formatArg(first);
  }
  for (; i < args.length; i++) out += ' ' + formatArg(args[i]);
  return out;
}

module.exports = { format, inspect };
