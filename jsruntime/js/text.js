// text.js: TextEncoder and TextDecoder (UTF-8 only, as in Node's small-icu default paths).
// Module factory: (module, exports, require, natives).
'use strict';

class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(s) {
    return new Uint8Array(natives.bufDecode(s === undefined ? '' : String(s), 'utf8'));
  }
  encodeInto(s, dest) {
    const b = this.encode(s);
    const n = Math.min(b.length, dest.length);
    dest.set(b.subarray(0, n));
    return { read: s.length, written: n };
  }
}

class TextDecoder {
  constructor(label, opts) {
    const l = label === undefined ? 'utf-8' : String(label).toLowerCase();
    if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') {
      throw new RangeError('The "' + label + '" encoding is not supported');
    }
    this.fatal = !!(opts && opts.fatal);
    this.ignoreBOM = !!(opts && opts.ignoreBOM);
  }
  get encoding() { return 'utf-8'; }
  decode(input) {
    if (input === undefined) return '';
    let u8;
    if (input instanceof ArrayBuffer) u8 = new Uint8Array(input);
    else if (ArrayBuffer.isView(input)) u8 = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    else throw new TypeError('The "input" argument must be an instance of ArrayBuffer or ArrayBufferView.');
    if (this.fatal && !natives.validUTF8(u8)) {
      const e = new TypeError('The encoded data was not valid for encoding utf-8');
      e.code = 'ERR_ENCODING_INVALID_ENCODED_DATA';
      throw e;
    }
    let s = natives.bufEncode(u8, 'utf8');
    if (!this.ignoreBOM && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    return s;
  }
}

module.exports = { TextEncoder, TextDecoder };
