async function lookup(name) {
  return name.toUpperCase();
}

async function handler(event) {
  const request = event.request;
  const names = Object.keys(request.headers).slice(0, 3);
  const upper = await Promise.all(names.map(lookup));
  let tag = '';
  for (const u of upper) tag += u[0];
  request.headers['x-tag'] = { value: tag };
  return request;
}
