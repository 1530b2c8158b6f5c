import crypto from 'crypto';
import cf from 'cloudfront';
const kvs = cf.kvs();

function unauthorized(reason) {
  return { statusCode: 401, statusDescription: 'Unauthorized', headers: { 'www-authenticate': { value: 'Bearer error="' + reason + '"' } } };
}

async function handler(event) {
  const request = event.request;
  const cookie = request.cookies.token;
  if (!cookie) return unauthorized('missing');
  const [header, payload, signature] = cookie.value.split('.');
  const key = await kvs.get('jwt-secret');
  const expected = crypto.createHmac('sha256', key).update(header + '.' + payload).digest('base64url');
  if (expected !== signature) return unauthorized('invalid_signature');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  request.headers['x-user'] = { value: claims.sub };
  delete request.cookies.token;
  return request;
}
