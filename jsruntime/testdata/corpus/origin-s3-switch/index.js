exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri.startsWith('/static/')) {
    request.origin = { s3: { domainName: 'assets-bucket.s3.amazonaws.com', region: 'us-east-1', authMethod: 'none', path: '', customHeaders: {} } };
    request.headers.host = [{ key: 'host', value: 'assets-bucket.s3.amazonaws.com' }];
    request.uri = request.uri.slice('/static'.length);
  }
  return request;
};
