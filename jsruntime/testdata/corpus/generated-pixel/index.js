const PIXEL = 'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==';
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  console.log('beacon', request.clientIp);
  return {
    status: 200,
    statusDescription: 'OK',
    headers: { 'content-type': [{ key: 'Content-Type', value: 'image/gif' }], 'cache-control': [{ value: 'no-store' }] },
    bodyEncoding: 'base64',
    body: PIXEL,
  };
};
