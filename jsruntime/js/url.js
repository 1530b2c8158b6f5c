// url.js: Node's url module: WHATWG URL and URLSearchParams (goja_nodejs) plus the legacy
// url.parse / url.format / url.resolve API that older Lambda@Edge code uses.
// Module factory: (module, exports, require, natives).
'use strict';
const qs = require('querystring');
const whatwg = natives.whatwgURL();
const URL = whatwg.URL;
const URLSearchParams = whatwg.URLSearchParams;

const slashedProtocols = { 'http:': true, 'https:': true, 'ftp:': true, 'gopher:': true, 'file:': true, 'ws:': true, 'wss:': true };
const hostlessProtocols = { 'javascript:': true, 'mailto:': true };

function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

function parse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  if (typeof url !== 'string') throw new TypeError('The "url" argument must be of type string. Received ' + typeof url);
  const u = new Url();
  let rest = url.trim().replace(/\\/g, '/');
  const h = rest.indexOf('#');
  if (h >= 0) { u.hash = rest.slice(h); rest = rest.slice(0, h); }
  const q = rest.indexOf('?');
  if (q >= 0) {
    u.search = rest.slice(q);
    u.query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  } else if (parseQueryString) {
    u.search = null;
  }
  if (parseQueryString) u.query = qs.parse(u.query || '');
  const pm = /^([a-z0-9.+-]+:)/i.exec(rest);
  let proto = null;
  if (pm) {
    proto = pm[1].toLowerCase();
    u.protocol = proto;
    rest = rest.slice(pm[1].length);
  }
  if ((slashesDenoteHost || proto || /^\/\/[^@/]+@[^@/]+/.test(rest)) && rest.slice(0, 2) === '//' && !(proto && hostlessProtocols[proto])) {
    u.slashes = true;
    rest = rest.slice(2);
  }
  if (!hostlessProtocols[proto] && (u.slashes || (proto && !slashedProtocols[proto]))) {
    let end = rest.indexOf('/');
    if (end < 0) end = rest.length;
    let hostPart = rest.slice(0, end);
    rest = rest.slice(end);
    const at = hostPart.lastIndexOf('@');
    if (at >= 0) {
      u.auth = decodeURIComponent(hostPart.slice(0, at));
      hostPart = hostPart.slice(at + 1);
    }
    const pm2 = /:([0-9]*)$/.exec(hostPart);
    if (pm2) {
      if (pm2[1]) u.port = pm2[1];
      hostPart = hostPart.slice(0, hostPart.length - pm2[0].length);
    }
    u.hostname = hostPart.toLowerCase();
    u.host = u.hostname + (u.port ? ':' + u.port : '');
  }
  if (rest) u.pathname = rest;
  else if (slashedProtocols[proto] && u.hostname) u.pathname = '/';
  if (u.pathname !== null || u.search !== null) u.path = (u.pathname || '') + (u.search || '');
  u.href = format(u);
  return u;
}

function format(obj) {
  if (typeof obj === 'string') obj = parse(obj);
  else if (obj instanceof URL) return obj.toString();
  let auth = obj.auth ? encodeURIComponent(obj.auth).replace(/%3A/i, ':') + '@' : '';
  let protocol = obj.protocol || '';
  if (protocol && protocol[protocol.length - 1] !== ':') protocol += ':';
  let pathname = obj.pathname || '';
  let hash = obj.hash || '';
  let host = '';
  if (obj.host) host = auth + obj.host;
  else if (obj.hostname) host = auth + obj.hostname + (obj.port ? ':' + obj.port : '');
  let search = obj.search || '';
  if (!search && obj.query && typeof obj.query === 'object') {
    const s = qs.stringify(obj.query);
    if (s) search = '?' + s;
  }
  if (search && search[0] !== '?') search = '?' + search;
  if (obj.slashes || slashedProtocols[protocol]) {
    if (obj.slashes || host) {
      if (pathname && pathname[0] !== '/') pathname = '/' + pathname;
      host = '//' + host;
    }
  }
  if (hash && hash[0] !== '#') hash = '#' + hash;
  pathname = pathname.replace(/[?#]/g, encodeURIComponent);
  search = search.replace('#', '%23');
  return protocol + host + pathname + search + hash;
}

function resolve(from, to) {
  const base = new URL(from, 'resolve://');
  const r = new URL(to, base);
  if (r.protocol === 'resolve:') return r.pathname + r.search + r.hash;
  return r.toString();
}

Url.prototype.format = function () { return format(this); };

module.exports = {
  URL, URLSearchParams, Url, parse, format, resolve,
  domainToASCII: whatwg.domainToASCII, domainToUnicode: whatwg.domainToUnicode,
  fileURLToPath: (u) => (typeof u === 'string' ? new URL(u) : u).pathname,
  pathToFileURL: (p) => new URL('file://' + p),
};
