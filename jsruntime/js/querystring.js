// querystring.js: Node's legacy querystring module (parse/stringify/escape/unescape).
// Module factory: (module, exports, require, natives).
'use strict';

function escape(s) {
  if (typeof s !== 'string') {
    if (typeof s === 'object') s = String(s);
    else s += '';
  }
  return encodeURIComponent(s);
}

// unescape decodes percent escapes; malformed sequences are kept as they are (Node's
// unescapeBuffer fallback), and invalid UTF-8 becomes U+FFFD.
function unescape(s, decodeSpaces) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return natives.lenientUnescape(String(s));
  }
}

function stringifyPrimitive(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && isFinite(v)) return '' + v;
  if (typeof v === 'bigint') return '' + v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return '';
}

function stringify(obj, sep, eq, options) {
  sep = sep || '&';
  eq = eq || '=';
  let enc = escape;
  if (options && typeof options.encodeURIComponent === 'function') enc = options.encodeURIComponent;
  if (obj === null || typeof obj !== 'object') return '';
  const keys = Object.keys(obj);
  const parts = [];
  for (const k of keys) {
    const v = obj[k];
    const ks = enc(stringifyPrimitive(k)) + eq;
    if (Array.isArray(v)) {
      for (const item of v) parts.push(ks + enc(stringifyPrimitive(item)));
    } else {
      parts.push(ks + enc(stringifyPrimitive(v)));
    }
  }
  return parts.join(sep);
}

function parse(qs, sep, eq, options) {
  const obj = Object.create(null);
  if (typeof qs !== 'string' || qs.length === 0) return obj;
  sep = sep ? String(sep) : '&';
  eq = eq ? String(eq) : '=';
  let maxKeys = 1000;
  if (options && typeof options.maxKeys === 'number') maxKeys = options.maxKeys;
  let dec = unescape;
  if (options && typeof options.decodeURIComponent === 'function') dec = options.decodeURIComponent;
  const decode = (s) => {
    s = s.replace(/\+/g, ' ');
    if (s.indexOf('%') < 0) return s;
    try {
      return dec(s);
    } catch (e) {
      return unescape(s);
    }
  };
  let pieces = qs.split(sep);
  if (maxKeys > 0 && pieces.length > maxKeys) pieces = pieces.slice(0, maxKeys);
  for (const p of pieces) {
    if (p.length === 0) continue;
    const i = p.indexOf(eq);
    let k, v;
    if (i >= 0) {
      k = decode(p.slice(0, i));
      v = decode(p.slice(i + eq.length));
    } else {
      k = decode(p);
      v = '';
    }
    const cur = obj[k];
    if (cur === undefined) obj[k] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else obj[k] = [cur, v];
  }
  return obj;
}

module.exports = { parse, stringify, escape, unescape, decode: parse, encode: stringify };
