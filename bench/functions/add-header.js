// Viewer-response function for the `js` benchmark scenario (Lambda@Edge style): adds one header
// to every response, cache hits included. nginx/add-header.njs does the same for nginx+njs.
exports.handler = async (event) => {
  const r = event.Records[0].cf.response;
  r.headers['x-bench'] = [{ key: 'X-Bench', value: '1' }];
  return r;
};
