exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const host = request.headers.host[0].value;
  if (!host.startsWith('www.')) {
    callback(null, {
      status: '301',
      statusDescription: 'Moved Permanently',
      headers: {
        location: [{ key: 'Location', value: `https://www.${host}${request.uri}${request.querystring ? '?' + request.querystring : ''}` }],
        'cache-control': [{ key: 'Cache-Control', value: 'max-age=3600' }],
      },
    });
    return;
  }
  callback(null, request);
};
