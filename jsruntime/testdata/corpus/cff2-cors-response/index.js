const allowed = new Set(['https://website.example.com']);
async function handler(event) {
  const { request, response } = event;
  const origin = request.headers.origin?.value;
  if (origin && allowed.has(origin)) {
    response.headers['access-control-allow-origin'] = { value: origin };
    response.headers['access-control-allow-credentials'] = { value: 'true' };
    response.headers['vary'] = { value: 'Origin' };
  }
  return response;
}
