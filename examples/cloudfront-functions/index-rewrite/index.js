// viewer-request (CloudFront Functions): a static site on an object store that has no
// directory indexes. /docs/ and /docs become /docs/index.html before the cache lookup.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    request.uri = uri + '/index.html';
  }
  return request;
}
