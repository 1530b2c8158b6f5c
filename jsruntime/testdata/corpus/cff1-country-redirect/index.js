var targets = { DE: '/de', FR: '/fr', GB: '/uk' };
function handler(event) {
  var request = event.request;
  var header = request.headers['cloudfront-viewer-country'];
  var prefix = header && targets[header.value];
  if (!prefix || request.uri.indexOf(prefix + '/') === 0) {
    return request;
  }
  return {
    statusCode: 302,
    statusDescription: 'Found',
    headers: { location: { value: 'https://' + request.headers.host.value + prefix + request.uri }, 'cache-control': { value: 'max-age=3600' } },
  };
}
