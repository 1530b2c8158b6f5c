'use strict';
exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  const h = response.headers;
  h['strict-transport-security'] = [{ key: 'Strict-Transport-Security', value: 'max-age=63072000; includeSubdomains; preload' }];
  h['content-security-policy'] = [{ key: 'Content-Security-Policy', value: "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'" }];
  h['x-content-type-options'] = [{ key: 'X-Content-Type-Options', value: 'nosniff' }];
  h['x-frame-options'] = [{ key: 'X-Frame-Options', value: 'DENY' }];
  h['referrer-policy'] = [{ key: 'Referrer-Policy', value: 'same-origin' }];
  delete h['server'];
  return response;
};
