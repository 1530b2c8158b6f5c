// crypto.js: the parts of Node's crypto module edge functions use: createHash, createHmac,
// randomBytes, randomUUID, randomInt, timingSafeEqual, getRandomValues. Digests are native (Go).
// Module factory: (module, exports, require, natives).
'use strict';
const { Buffer } = require('buffer');

function toBytes(data, enc, what) {
  if (typeof data === 'string') return Buffer.from(data, enc);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError('The "' + what + '" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ' + (data === null ? 'null' : typeof data));
}

class Hash {
  constructor(alg, key) {
    this._h = natives.newHash(String(alg), key);
    this._done = false;
  }
  update(data, enc) {
    if (this._done) throw new Error('Digest already called');
    this._h.update(toBytes(data, enc, 'data'));
    return this;
  }
  digest(enc) {
    if (this._done) throw new Error('Digest already called');
    this._done = true;
    const b = Buffer.from(this._h.digest());
    if (enc === undefined && natives.byteStringDigest) return b.toString('latin1'); // cloudfront-js-1.0: a byte string
    return enc === undefined || enc === 'buffer' ? b : b.toString(enc);
  }
  copy() {
    const h = Object.create(Hash.prototype);
    h._h = this._h.copy();
    h._done = false;
    return h;
  }
}
class Hmac extends Hash {}

function createHash(alg) { return new Hash(alg, undefined); }
function createHmac(alg, key) {
  if (key === undefined || key === null) throw new TypeError('The "key" argument must be of type string or an instance of Buffer, TypedArray, DataView, or KeyObject.');
  const h = Object.create(Hmac.prototype);
  h._h = natives.newHash(String(alg), toBytes(key, undefined, 'key'));
  h._done = false;
  return h;
}

function randomBytes(n, cb) {
  if (typeof n !== 'number' || n < 0 || n > 0x7fffffff) throw new RangeError('The value of "size" is out of range. Received ' + n);
  const b = Buffer.alloc(n);
  natives.randomFill(b);
  if (typeof cb === 'function') {
    queueMicrotask(() => cb(null, b));
    return undefined;
  }
  return b;
}

function getRandomValues(a) {
  if (!ArrayBuffer.isView(a)) throw new TypeError('The "typedArray" argument must be an integer-type TypedArray');
  if (a.byteLength > 65536) throw new RangeError('The ArrayBufferView\'s byte length (' + a.byteLength + ') exceeds the number of bytes of entropy available via this API (65536)');
  natives.randomFill(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return a;
}

function randomUUID() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

function randomInt(min, max, cb) {
  if (max === undefined || typeof max === 'function') { cb = max; max = min; min = 0; }
  const range = max - min;
  if (!(range > 0)) throw new RangeError('The value of "max" is out of range. It must be greater than the value of "min" (' + min + '). Received ' + max);
  const b = randomBytes(6);
  const x = b.readUIntBE ? (b[0] * 2 ** 40 + b[1] * 2 ** 32 + b.readUInt32BE(2)) : 0;
  const r = min + (x % range);
  if (typeof cb === 'function') { queueMicrotask(() => cb(null, r)); return undefined; }
  return r;
}

function timingSafeEqual(a, b) {
  const x = toBytes(a, undefined, 'buf1');
  const y = toBytes(b, undefined, 'buf2');
  if (x.length !== y.length) {
    const e = new RangeError('Input buffers must have the same byte length');
    e.code = 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH';
    throw e;
  }
  return natives.timingSafeEqual(x, y);
}

const webcrypto = { getRandomValues, randomUUID };
module.exports = {
  createHash, createHmac, randomBytes, randomUUID, randomInt, timingSafeEqual, getRandomValues,
  getHashes: () => ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'],
  webcrypto, Hash, Hmac,
};
