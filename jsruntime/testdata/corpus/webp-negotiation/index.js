exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const accept = (request.headers.accept || []).map((h) => h.value).join(',');
  if (/\.(jpe?g|png)$/i.test(request.uri) && accept.includes('image/webp')) {
    request.uri = request.uri.replace(/\.(jpe?g|png)$/i, '.webp');
  }
  return request;
};
