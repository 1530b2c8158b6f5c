// How the event's objects behave as plain JavaScript objects: key order, enumeration, spread,
// `in`, delete and re-add, added keys, the Records array, and JSON of the whole event.
exports.handler = async (event) => {
  console.log(JSON.stringify(event));
  const rec = event.Records[0];
  console.log(Array.isArray(event.Records), event.Records.length, typeof rec.cf, Object.keys(rec));
  const { config, request } = rec.cf;
  console.log(Object.keys(rec.cf), Object.keys(config), Object.entries(config).length);
  const seen = [];
  for (const k in request) seen.push(k);
  console.log(seen.join(','), 'origin' in request, 'response' in rec.cf, request.hasOwnProperty('uri'));
  const copy = { ...request, uri: '/copy' };
  console.log(Object.keys(copy), copy.uri, request.uri);
  console.log(JSON.stringify(Object.assign({}, config)));
  delete request.querystring;
  console.log('querystring' in request, request.querystring, Object.keys(request));
  request.querystring = 'c=3';
  request.extra = { n: 1 };
  console.log(Object.keys(request), JSON.stringify(request.body), request.origin.custom.port);
  delete request.extra;
  request.uri = '/rewritten';
  request.headers['x-added'] = [{ key: 'X-Added', value: String(event.Records.map((r) => r.cf.config.eventType)) }];
  delete request.headers['cache-control'];
  console.log(Object.keys(request.headers));
  return request;
};
