function handler(event) {
  var response = event.response;
  var headers = response.headers;
  headers['strict-transport-security'] = { value: 'max-age=63072000; includeSubdomains; preload' };
  headers['x-frame-options'] = { value: 'DENY' };
  headers['x-content-type-options'] = { value: 'nosniff' };
  delete headers['server'];
  response.cookies['seen'] = { value: 'yes', attributes: 'Path=/; Secure' };
  return response;
}
