const { rewrite } = require('./lib/rules');
const redirects = require('./redirects.json');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const target = redirects[request.uri];
  if (target) {
    return { status: '302', statusDescription: 'Found', headers: { location: [{ key: 'Location', value: target }] } };
  }
  request.uri = rewrite(request.uri);
  return request;
};
