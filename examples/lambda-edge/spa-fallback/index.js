// origin-request: a single-page application. Paths without a file extension are routes of
// the application, served by /index.html; assets (/app.js, /logo.svg) pass through. Running at
// origin-request means the rewrite happens once per cache miss, not on every request.
'use strict';

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const last = request.uri.split('/').pop();
  if (!last.includes('.')) {
    request.uri = '/index.html';
  }
  return request;
};
