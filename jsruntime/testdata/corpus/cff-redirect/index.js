function handler(event) {
  var request = event.request;
  var country = request.headers['cloudfront-viewer-country'];
  if (country && country.value === 'GB') {
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: 'https://www.example.com/uk' + request.uri } } };
  }
  return request;
}
