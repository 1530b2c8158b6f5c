let invocations = 0;
const started = typeof Date.now();
exports.handler = async (event) => {
  invocations++;
  console.log('invocation', invocations, started);
  const response = event.Records[0].cf.response;
  response.headers['x-invocation'] = [{ key: 'X-Invocation', value: String(invocations) }];
  return response;
};
