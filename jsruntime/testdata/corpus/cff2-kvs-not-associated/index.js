import cf from 'cloudfront';
async function handler(event) {
  try {
    cf.kvs();
  } catch (e) {
    console.log(e.message);
  }
  return event.request;
}
