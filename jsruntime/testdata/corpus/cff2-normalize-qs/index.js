import querystring from 'querystring';
async function handler(event) {
  const request = event.request;
  const raw = request.rawQueryString();
  const params = querystring.parse(raw);
  const keys = Object.keys(params).filter((k) => !k.startsWith('utm_')).sort();
  const out = {};
  for (const k of keys) out[k.toLowerCase()] = params[k];
  request.querystring = querystring.stringify(out);
  console.log(raw + ' -> ' + request.querystring);
  return request;
}
