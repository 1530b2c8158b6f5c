var crypto = require('crypto');
var secret = 'not-a-real-secret';
function handler(event) {
  var request = event.request;
  var exp = request.querystring.Exp && request.querystring.Exp.value;
  var id = request.querystring.ID && request.querystring.ID.value;
  var sig = crypto.createHmac('sha256', secret).update(request.uri + ':' + id + ':' + exp).digest('hex');
  request.headers['x-signature'] = { value: sig };
  request.headers['x-md5'] = { value: crypto.createHash('md5').update(request.uri).digest('base64') };
  return request;
}
