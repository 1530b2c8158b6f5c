// viewer-request (CloudFront Functions): send German-speaking countries to the /de/ site.
// The cloudfront-viewer-country header is set by the edge (from the viewer's address).
function handler(event) {
  var request = event.request;
  var country = request.headers['cloudfront-viewer-country'];
  var german = ['DE', 'AT', 'CH', 'LI'];
  if (country && german.indexOf(country.value) !== -1 && !request.uri.startsWith('/de/')) {
    return {
      statusCode: 302,
      statusDescription: 'Found',
      headers: {
        location: { value: 'https://' + request.headers.host.value + '/de' + request.uri },
        'cache-control': { value: 'private, max-age=0' },
      },
    };
  }
  return request;
}
