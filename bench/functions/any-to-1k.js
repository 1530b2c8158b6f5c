// Viewer-request function for the `busy` benchmark scenario (Lambda@Edge style): serves every
// URI from /1k.bin, so that each of many functions deployed on /fN/* answers a cache hit.
exports.handler = async (event) => {
  const r = event.Records[0].cf.request;
  r.uri = '/1k.bin';
  return r;
};
