exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  delete request.headers.host;
  return request;
};
