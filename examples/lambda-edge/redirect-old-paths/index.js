// viewer-request: pages under /old/ have moved. Answer with a 301 at the edge, so the
// request never reaches the cache or the origin, and keep the query string.
'use strict';

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (!request.uri.startsWith('/old/')) {
    return request;
  }
  const target = request.uri.slice('/old'.length) + (request.querystring ? '?' + request.querystring : '');
  return {
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: {
      location: [{ key: 'Location', value: target }],
      'cache-control': [{ key: 'Cache-Control', value: 'max-age=3600' }],
    },
  };
};
