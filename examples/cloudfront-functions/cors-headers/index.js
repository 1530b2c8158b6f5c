// viewer-response (CloudFront Functions): let pages on the listed sites read the API's
// responses from the browser. The origin knows nothing of CORS.
function handler(event) {
  var request = event.request;
  var response = event.response;
  var allowed = ['https://app.example.com', 'https://admin.example.com'];
  var origin = request.headers.origin;
  if (origin && allowed.indexOf(origin.value) !== -1) {
    response.headers['access-control-allow-origin'] = { value: origin.value };
    response.headers['access-control-allow-credentials'] = { value: 'true' };
    response.headers['vary'] = { value: 'Origin' };
  }
  return response;
}
