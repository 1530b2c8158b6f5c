import cf from 'cloudfront';
const redirects = cf.kvs();

async function handler(event) {
  const request = event.request;
  if (!(await redirects.exists(request.uri))) {
    return request;
  }
  const target = await redirects.get(request.uri, { format: 'json' });
  return {
    statusCode: target.permanent ? 301 : 302,
    statusDescription: target.permanent ? 'Moved Permanently' : 'Found',
    headers: { location: { value: target.to } },
  };
}
