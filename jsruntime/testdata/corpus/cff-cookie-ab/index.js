var crypto = require('crypto');
function handler(event) {
  var request = event.request;
  var group = request.cookies['cookie_consent'] && request.cookies['cookie_consent'].value === 'true' ? 'consented' : 'anonymous';
  var h = crypto.createHash('sha256').update(event.viewer.ip).digest('hex');
  request.headers['x-bucket'] = { value: group + '-' + (parseInt(h.slice(0, 2), 16) % 4) };
  request.cookies['Cookie2'] = { value: 'changed' };
  return request;
}
