const origins = { DE: 'eu.example.org', FR: 'eu.example.org', US: 'us.example.org' };
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const country = request.headers['cloudfront-viewer-country'];
  const domain = country && origins[country[0].value];
  if (domain) {
    request.origin.custom.domainName = domain;
    request.origin.custom.path = '/v2';
    request.headers.host = [{ key: 'Host', value: domain }];
  }
  callback(null, request);
};
