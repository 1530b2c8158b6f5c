const crypto = require('crypto');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const uri = request.uri + 'index.html';
  console.log(crypto.createHash('sha256').update(uri).digest('hex'));
  console.log(crypto.createHash('md5').update(uri).digest('base64'));
  console.log(crypto.createHash('sha1').update(Buffer.from(uri)).digest('hex'));
  console.log(crypto.createHash('sha512').update('a').update('b').digest('base64url'));
  console.log(crypto.createHmac('sha256', 'key').update(uri).digest('hex'));
  console.log(crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')));
  console.log(crypto.randomBytes(8).length, typeof crypto.randomUUID(), crypto.randomUUID().length);
  request.headers['x-etag'] = [{ key: 'X-Etag', value: crypto.createHash('sha1').update(uri).digest('hex').slice(0, 16) }];
  return request;
};
