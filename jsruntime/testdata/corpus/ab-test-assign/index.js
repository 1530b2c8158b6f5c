const crypto = require('crypto');
function parseCookies(headers) {
  const out = {};
  for (const h of headers.cookie || []) {
    for (const part of h.value.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k) out[k] = v.join('=');
    }
  }
  return out;
}
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const cookies = parseCookies(request.headers);
  let group = cookies['X-Experiment'];
  if (!group) {
    const n = crypto.createHash('md5').update(request.clientIp).digest()[0];
    group = n % 2 === 0 ? 'A' : 'B';
    console.log('assigned group %s from byte %d', group, n);
  }
  request.uri = '/experiment-' + group + request.uri;
  return request;
};
