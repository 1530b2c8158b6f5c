// Viewer-request function for the `js-up-uri` benchmark scenario (Lambda@Edge style): serves
// /page from /1k.bin, a pretty URL mapped to a file, as rewrite functions do.
// nginx/add-header.njs's rewriteUri does the same for nginx+njs.
exports.handler = async (event) => {
  const r = event.Records[0].cf.request;
  if (r.uri === '/page') r.uri = '/1k.bin';
  return r;
};
