const querystring = require('querystring');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const params = querystring.parse(request.querystring);
  const kept = {};
  for (const key of Object.keys(params).sort()) {
    if (!key.startsWith('utm_')) kept[key] = params[key];
  }
  console.log('params', params);
  request.querystring = querystring.stringify(kept);
  return request;
};
