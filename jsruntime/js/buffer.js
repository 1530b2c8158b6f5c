// buffer.js: Node's Buffer as a Uint8Array subclass; the string codecs are native (Go).
// Module factory: (module, exports, require, natives).
'use strict';

const encodings = {
  utf8: 'utf8', 'utf-8': 'utf8', hex: 'hex', base64: 'base64', base64url: 'base64url',
  latin1: 'latin1', binary: 'latin1', ascii: 'ascii', ucs2: 'utf16le', 'ucs-2': 'utf16le',
  utf16le: 'utf16le', 'utf-16le': 'utf16le',
};

function normEnc(enc) {
  if (enc === undefined || enc === null || enc === '') return 'utf8';
  const e = encodings[String(enc).toLowerCase()];
  if (!e) {
    const err = new TypeError('Unknown encoding: ' + enc);
    err.code = 'ERR_UNKNOWN_ENCODING';
    throw err;
  }
  return e;
}

class FastBuffer extends Uint8Array {
  constructor(a, b, c) { super(a, b, c); }
}

function Buffer(arg, encOrOffset, length) {
  if (typeof arg === 'number') return Buffer.alloc(arg);
  return Buffer.from(arg, encOrOffset, length);
}
Buffer.prototype = FastBuffer.prototype;
Object.defineProperty(FastBuffer.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });
Object.setPrototypeOf(Buffer, Uint8Array);
Object.defineProperty(Buffer, Symbol.species, { get() { return FastBuffer; }, configurable: true });
Buffer.poolSize = 8192;

function fromArrayBuffer(ab) { return new FastBuffer(ab); }

Buffer.from = function from(v, encOrOffset, length) {
  if (typeof v === 'string') return fromArrayBuffer(natives.bufDecode(v, normEnc(encOrOffset)));
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) {
    const off = encOrOffset === undefined ? 0 : encOrOffset >>> 0;
    const len = length === undefined ? v.byteLength - off : length >>> 0;
    return new FastBuffer(v, off, len);
  }
  if (ArrayBuffer.isView(v)) {
    const b = new FastBuffer(v.length);
    if (v instanceof Uint8Array) b.set(v);
    else for (let i = 0; i < v.length; i++) b[i] = v[i];
    return b;
  }
  if (v !== null && typeof v === 'object') {
    if (v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data);
    if (Array.isArray(v) || typeof v.length === 'number') {
      const b = new FastBuffer(v.length >>> 0);
      for (let i = 0; i < b.length; i++) b[i] = v[i];
      return b;
    }
    const prim = typeof v[Symbol.toPrimitive] === 'function' ? v[Symbol.toPrimitive]('string') : v.valueOf();
    if (prim !== v && prim !== null && prim !== undefined) return Buffer.from(prim, encOrOffset, length);
  }
  throw new TypeError('The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received ' + (v === null ? 'null' : typeof v));
};

Buffer.alloc = function alloc(size, fill, enc) {
  const b = new FastBuffer(checkSize(size));
  if (fill !== undefined && fill !== 0 && size > 0) b.fill(fill, 0, b.length, enc);
  return b;
};
Buffer.allocUnsafe = Buffer.allocUnsafeSlow = (size) => new FastBuffer(checkSize(size));

function checkSize(size) {
  if (typeof size !== 'number' || size < 0 || size > 0x7fffffff || size !== size) {
    throw new RangeError('The argument \'size\' is invalid. Received ' + size);
  }
  return size;
}

Buffer.isBuffer = (b) => b instanceof FastBuffer;
Buffer.isEncoding = (e) => typeof e === 'string' && encodings[e.toLowerCase()] !== undefined;
Buffer.byteLength = function byteLength(v, enc) {
  if (typeof v === 'string') return natives.bufByteLength(v, normEnc(enc));
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v.byteLength;
  throw new TypeError('The "string" argument must be of type string or an instance of Buffer or ArrayBuffer.');
};
Buffer.concat = function concat(list, total) {
  if (!Array.isArray(list)) throw new TypeError('The "list" argument must be an instance of Array.');
  if (total === undefined) { total = 0; for (const b of list) total += b.length; }
  const out = Buffer.alloc(total);
  let pos = 0;
  for (const b of list) {
    if (pos >= total) break;
    const n = Math.min(b.length, total - pos);
    out.set(n === b.length ? b : b.subarray(0, n), pos);
    pos += n;
  }
  return out;
};
Buffer.compare = (a, b) => a.compare(b);

const proto = FastBuffer.prototype;
proto.toString = function toString(enc, start, end) {
  if (arguments.length === 0) return natives.bufEncode(this, 'utf8');
  start = start === undefined ? 0 : Math.max(0, start | 0);
  end = end === undefined ? this.length : Math.min(this.length, end | 0);
  if (end <= start) return '';
  const view = (start === 0 && end === this.length) ? this : this.subarray(start, end);
  return natives.bufEncode(view, normEnc(enc));
};
proto.toLocaleString = proto.toString;
proto.toJSON = function toJSON() { return { type: 'Buffer', data: Array.from(this) }; };
proto.equals = function equals(o) {
  if (!(o instanceof Uint8Array)) throw new TypeError('The "otherBuffer" argument must be an instance of Buffer or Uint8Array.');
  return this.compare(o) === 0;
};
proto.compare = function compare(o) {
  const n = Math.min(this.length, o.length);
  for (let i = 0; i < n; i++) if (this[i] !== o[i]) return this[i] < o[i] ? -1 : 1;
  return this.length === o.length ? 0 : (this.length < o.length ? -1 : 1);
};
proto.slice = function slice(s, e) { return this.subarray(s, e); };
proto.write = function write(str, offset, length, enc) {
  if (typeof offset === 'string') { enc = offset; offset = 0; length = undefined; }
  else if (typeof length === 'string') { enc = length; length = undefined; }
  offset = offset >>> 0;
  const bytes = new Uint8Array(natives.bufDecode(str, normEnc(enc)));
  const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length);
  this.set(bytes.subarray(0, n), offset);
  return n;
};
proto.copy = function copy(target, tStart, sStart, sEnd) {
  tStart = tStart || 0; sStart = sStart || 0; sEnd = sEnd === undefined ? this.length : sEnd;
  const n = Math.max(0, Math.min(sEnd - sStart, target.length - tStart));
  target.set(this.subarray(sStart, sStart + n), tStart);
  return n;
};
const u8fill = Uint8Array.prototype.fill;
proto.fill = function fill(v, start, end, enc) {
  if (typeof start === 'string') { enc = start; start = 0; end = this.length; }
  start = start === undefined ? 0 : start;
  end = end === undefined ? this.length : end;
  if (typeof v === 'number') return u8fill.call(this, v & 255, start, end);
  const pat = typeof v === 'string' ? Buffer.from(v, enc) : Buffer.from(v);
  if (pat.length === 0) return u8fill.call(this, 0, start, end);
  for (let i = start, j = 0; i < end; i++, j = (j + 1) % pat.length) this[i] = pat[j];
  return this;
};
proto.indexOf = function indexOf(v, from, enc) {
  if (typeof v === 'number') return Uint8Array.prototype.indexOf.call(this, v & 255, from);
  const pat = typeof v === 'string' ? Buffer.from(v, enc) : v;
  from = from === undefined ? 0 : (from < 0 ? Math.max(0, this.length + from) : from);
  outer: for (let i = from; i <= this.length - pat.length; i++) {
    for (let j = 0; j < pat.length; j++) if (this[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
};
proto.includes = function includes(v, from, enc) { return this.indexOf(v, from, enc) !== -1; };

function dv(b) { return new DataView(b.buffer, b.byteOffset, b.byteLength); }
const ints = [
  ['UInt8', 'Uint8', 1], ['Int8', 'Int8', 1], ['UInt16', 'Uint16', 2], ['Int16', 'Int16', 2],
  ['UInt32', 'Uint32', 4], ['Int32', 'Int32', 4], ['Float', 'Float32', 4], ['Double', 'Float64', 8],
  ['BigUInt64', 'BigUint64', 8], ['BigInt64', 'BigInt64', 8],
];
for (const [name, dvName, size] of ints) {
  const ends = size === 1 ? [''] : ['BE', 'LE'];
  for (const end of ends) {
    const le = end === 'LE';
    const get = DataView.prototype['get' + dvName];
    const set = DataView.prototype['set' + dvName];
    const rd = function (off) {
      off = off === undefined ? 0 : off;
      if (off < 0 || off + size > this.length) throw new RangeError('The value of "offset" is out of range. It must be >= 0 and <= ' + (this.length - size) + '. Received ' + off);
      return get.call(dv(this), off, le);
    };
    const wr = function (v, off) {
      off = off === undefined ? 0 : off;
      if (off < 0 || off + size > this.length) throw new RangeError('The value of "offset" is out of range. It must be >= 0 and <= ' + (this.length - size) + '. Received ' + off);
      set.call(dv(this), off, v, le);
      return off + size;
    };
    proto['read' + name + end] = rd;
    proto['write' + name + end] = wr;
    if (name.indexOf('UInt') >= 0) {
      proto['read' + name.replace('UInt', 'Uint') + end] = rd;
      proto['write' + name.replace('UInt', 'Uint') + end] = wr;
    }
  }
}

module.exports = { Buffer, kMaxLength: 0x7fffffff, constants: { MAX_LENGTH: 0x7fffffff, MAX_STRING_LENGTH: 0x1fffffe8 } };
