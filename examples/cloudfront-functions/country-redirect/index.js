// viewer-request (CloudFront Functions): send German-speaking countries to the /de/ site.
// CloudFront sets cloudfront-viewer-country from the viewer's address. Verge has no geolocation
// database and sets no such header: here it comes from whatever is in front of Verge (a load
// balancer that geolocates), or from the viewer itself, who can send any value. Good enough
// for a convenience redirect; never use it to grant or deny access.
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
