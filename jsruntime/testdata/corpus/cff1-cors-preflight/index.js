var allowed = ['https://website.example.com', 'https://admin.example.com'];
function handler(event) {
  var request = event.request;
  var origin = request.headers.origin && request.headers.origin.value;
  if (request.method !== 'OPTIONS') {
    return request;
  }
  if (allowed.indexOf(origin) < 0) {
    return { statusCode: 403, statusDescription: 'Forbidden' };
  }
  return {
    statusCode: 204,
    statusDescription: 'No Content',
    headers: {
      'access-control-allow-origin': { value: origin },
      'access-control-allow-methods': { value: 'GET, HEAD, OPTIONS' },
      'access-control-allow-headers': { value: (request.headers['access-control-request-headers'] || { value: '' }).value },
      'access-control-max-age': { value: '86400' },
      vary: { value: 'Origin' },
    },
  };
}
