const path = require('path');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (!path.extname(request.uri)) {
    console.log('rewriting %s to /index.html', request.uri);
    request.uri = '/index.html';
  }
  return request;
};
