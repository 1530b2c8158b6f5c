import cf from 'cloudfront';
async function handler(event) {
  const request = event.request;
  if (request.uri.startsWith('/api/')) {
    cf.selectRequestOriginById('api');
    request.headers['x-origin'] = { value: 'api' };
  } else if (request.uri.startsWith('/media/')) {
    cf.updateRequestOrigin({ domainName: 'media.example.com', originPath: '/v2', customHeaders: { 'x-from': 'edge' } });
    request.headers['x-origin'] = { value: 'media' };
  }
  return request;
}
