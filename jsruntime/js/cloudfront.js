// The `cloudfront` module of CloudFront Functions runtime 2.0 (import cf from 'cloudfront').
// Store reads go through natives, which reach only the store associated with this function;
// each read sees the store's contents at that moment.
'use strict';
if (!natives.kvsName) throw new Error('Cannot find module \'cloudfront\' (it needs runtime cloudfront-js-2.0)');
const { Buffer } = require('buffer');

const formats = ['string', 'json', 'bytes'];

function handle() {
  return Object.freeze({
    get(key, options) {
      return new Promise((resolve, reject) => {
        const format = options === undefined || options === null || options.format === undefined ? 'string' : options.format;
        if (!formats.includes(format)) throw new Error('Unknown format: ' + format + ' (want string, json or bytes)');
        const v = natives.kvsGet(String(key));
        if (v === undefined) throw new Error('KeyNotFound: the key ' + JSON.stringify(String(key)) + ' is not in the store');
        if (format === 'json') resolve(JSON.parse(v));
        else if (format === 'bytes') resolve(Buffer.from(v, 'utf8'));
        else resolve(v);
      });
    },
    exists(key) {
      return new Promise((resolve) => resolve(natives.kvsGet(String(key)) !== undefined));
    },
    meta() {
      return new Promise((resolve) => resolve(natives.kvsMeta()));
    },
  });
}

function kvs(id) {
  const name = natives.kvsName();
  if (name === undefined) throw new Error('KVSNamespaceNotFound: no KeyValueStore is associated with this function');
  if (id !== undefined && name !== '' && String(id) !== name) throw new Error('KVSNamespaceNotFound: KeyValueStore ' + JSON.stringify(String(id)) + ' is not associated with this function');
  return handle();
}

const cf = {
  kvs,
  updateRequestOrigin(params) { natives.cfOrigin('updateRequestOrigin', params); },
  selectRequestOriginById(id) { natives.cfOrigin('selectRequestOriginById', id); },
  createRequestOriginGroup(params) { natives.cfOrigin('createRequestOriginGroup', params); },
};
Object.defineProperty(cf, 'edgeLocation', { enumerable: true, get: () => natives.edgeLocation() });
module.exports = cf;
