exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  const ct = response.headers['content-type'];
  if (response.status === '404') {
    response.body = '<!doctype html><title>Not found</title><h1>Nothing here</h1>';
    response.headers['content-type'] = [{ key: 'Content-Type', value: 'text/html' }];
    response.headers['cache-control'] = [{ key: 'Cache-Control', value: 'max-age=60' }];
    delete response.headers['content-length'];
  } else if (ct && ct[0].value.startsWith('text/html')) {
    response.headers['cache-control'] = [{ key: 'Cache-Control', value: 'max-age=300' }];
  }
  return response;
};
