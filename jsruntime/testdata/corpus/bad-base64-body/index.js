exports.handler = async () => ({ status: '200', body: 'not*base64!', bodyEncoding: 'base64' });
