exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  console.error('about to fail for', request.uri);
  throw new TypeError('backend config missing');
};
