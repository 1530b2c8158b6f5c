const url = require('url');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const parsed = url.parse(request.uri + '?' + request.querystring, true);
  console.log(parsed.pathname, parsed.query.width, parsed.query.name);
  const params = new URLSearchParams(request.querystring);
  params.set('width', String(Math.min(Number(params.get('width')), 256)));
  params.append('v', '2');
  console.log(params.toString());
  const u = new URL('https://' + request.headers.host[0].value + request.uri + '?' + params);
  console.log(u.hostname, u.searchParams.get('format'), u.href);
  request.querystring = params.toString();
  return request;
};
