// Exercises the headers object the way real code does: enumeration, spread, in/hasOwnProperty,
// delete and re-add (which moves a name last), Object.entries/assign, JSON and console output.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const headers = request.headers;
  console.log(Object.keys(headers), 'host' in headers, headers.hasOwnProperty('accept'), headers.Host);
  console.log(headers);
  const copy = { ...headers };
  delete headers['user-agent'];
  headers['x-added'] = [{ key: 'X-Added', value: '1' }];
  headers['user-agent'] = [{ key: 'User-Agent', value: 'verge-test' }];
  headers.accept[0].value = 'text/html';
  for (const name in headers) console.log('in', name, headers[name].length);
  console.log(Object.entries(headers).map(([k, v]) => k + '=' + v[0].value).join(' | '));
  Object.assign(headers, { 'x-assigned': [{ value: 'yes' }] });
  console.log(JSON.stringify(copy.accept), Object.keys(copy).length, typeof headers.nope);
  return request;
};
