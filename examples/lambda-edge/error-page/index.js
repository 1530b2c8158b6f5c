// origin-response: replace the origin's bare 404 with a branded page, cached for a minute so
// a burst of requests for a missing object does not reach the origin. Runs before the cache
// stores the response, so hits get the page too.
'use strict';

const page = '<!doctype html><title>Not found</title><h1>We could not find that page</h1><p><a href="/">Home</a></p>';

exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  if (response.status !== '404') {
    return response;
  }
  response.statusDescription = 'Not Found';
  response.body = page;
  response.headers['content-type'] = [{ key: 'Content-Type', value: 'text/html; charset=utf-8' }];
  response.headers['cache-control'] = [{ key: 'Cache-Control', value: 'max-age=60' }];
  return response;
};
