// viewer-response: add the security headers every page should carry. It runs on hits too,
// so cached pages get them without the origin's help.
'use strict';

const headers = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'",
};

exports.handler = (event, context, callback) => {
  const response = event.Records[0].cf.response;
  for (const [name, value] of Object.entries(headers)) {
    response.headers[name] = [{ value }]; // the key is filled in as Title-Case
  }
  callback(null, response);
};
