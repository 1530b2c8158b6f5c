exports.handler = async (event) => {
  const order = [];
  setTimeout(() => order.push('timeout'), 0);
  queueMicrotask(() => order.push('microtask'));
  Promise.resolve().then(() => order.push('then'));
  process.nextTick(() => order.push('tick'));
  order.push('sync');
  await new Promise((r) => setTimeout(r, 10));
  console.log(order.join(','));
  const request = event.Records[0].cf.request;
  const results = await Promise.all([1, 2, 3].map(async (n) => n * 2));
  request.headers['x-results'] = [{ key: 'X-Results', value: results.join(',') }];
  return request;
};
