const assets = /\.(js|css|png|svg|ico|json|txt|woff2?)$/;
function handler(event) {
  const { request } = event;
  if (!assets.test(request.uri)) {
    request.uri = '/index.html';
  }
  return request;
}
