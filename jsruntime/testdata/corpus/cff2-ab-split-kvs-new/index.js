import cf from 'cloudfront';
import crypto from 'crypto';
const kvs = cf.kvs();

async function handler(event) {
  const request = event.request;
  const experiment = await kvs.get('experiment', { format: 'json' });
  let group = request.cookies['ab-group']?.value;
  if (!experiment.variants.includes(group)) {
    const bucket = parseInt(crypto.createHash('sha1').update(event.viewer.ip).digest('hex').slice(0, 4), 16) % 100;
    group = bucket < experiment.split ? experiment.variants[0] : experiment.variants[1];
    console.log('assigned ' + group + ' (bucket ' + bucket + ')');
  }
  request.uri = '/' + group + request.uri;
  request.headers['x-ab-group'] = { value: group };
  return request;
}
