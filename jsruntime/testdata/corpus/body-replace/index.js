const qs = require('querystring');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const form = qs.parse(Buffer.from(request.body.data, 'base64').toString());
  console.log(form);
  request.body.action = 'replace';
  request.body.encoding = 'base64';
  request.body.data = Buffer.from(JSON.stringify(form)).toString('base64');
  request.headers['content-type'] = [{ key: 'Content-Type', value: 'application/json' }];
  return request;
};
