// viewer-request: HTTP Basic authentication in front of a staging site. A request without the
// right credentials gets a 401 from the edge; the cache and the origin never see it.
'use strict';

const expected = 'Basic ' + Buffer.from('preview:let-me-in').toString('base64');

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const auth = request.headers.authorization;
  if (auth && auth[0].value === expected) {
    delete request.headers.authorization; // the origin needs no credentials
    return request;
  }
  return {
    status: '401',
    statusDescription: 'Unauthorized',
    headers: {
      'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Basic realm="staging", charset="UTF-8"' }],
      'content-type': [{ key: 'Content-Type', value: 'text/plain' }],
    },
    body: 'Authentication required',
  };
};
