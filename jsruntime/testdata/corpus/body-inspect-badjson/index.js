exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const body = Buffer.from(request.body.data, 'base64').toString();
  let doc;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    return { status: '400', statusDescription: 'Bad Request', body: 'invalid JSON' };
  }
  if (typeof doc.email !== 'string' || !doc.email.includes('@')) {
    console.log('rejected', doc);
    return { status: '422', statusDescription: 'Unprocessable Entity', headers: { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] }, body: JSON.stringify({ error: 'email required' }) };
  }
  return request;
};
