const crypto = require('crypto');
const SECRET = 'verge-demo-secret';
function unauthorized(reason) {
  console.warn('denied:', reason);
  return { status: '401', statusDescription: 'Unauthorized', headers: { 'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Bearer' }] }, body: 'Unauthorized' };
}
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const auth = request.headers.authorization && request.headers.authorization[0].value;
  if (!auth || !auth.startsWith('Bearer ')) return unauthorized('no token');
  const [h, p, s] = auth.slice(7).split('.');
  if (!s) return unauthorized('malformed');
  const expected = crypto.createHmac('sha256', SECRET).update(h + '.' + p).digest('base64url');
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(s.padEnd(expected.length, '=').slice(0, expected.length)))) return unauthorized('bad signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  if (claims.exp * 1000 < Date.now()) return unauthorized('expired');
  console.log('authorized', { sub: claims.sub, name: claims.name });
  request.headers['x-user'] = [{ key: 'X-User', value: claims.sub }];
  delete request.headers.authorization;
  return request;
};
