import cf from 'cloudfront';
async function handler(event) {
  const kvs = cf.kvs();
  const bytes = await kvs.get('greeting', { format: 'bytes' });
  const meta = await kvs.meta();
  let missing;
  try {
    await kvs.get('absent');
  } catch (e) {
    missing = e.message;
  }
  console.log(missing);
  event.request.headers['x-kvs'] = {
    value: [bytes.length, bytes.toString('hex'), await kvs.exists('greeting'), await kvs.exists('absent'), meta.keyCount].join(' '),
  };
  return event.request;
}
