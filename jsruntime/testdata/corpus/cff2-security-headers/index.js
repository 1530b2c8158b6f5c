const policies = {
  'strict-transport-security': 'max-age=63072000; includeSubdomains; preload',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'permissions-policy': 'camera=(), microphone=()',
};
async function handler(event) {
  const response = event.response;
  for (const [name, value] of Object.entries(policies)) {
    if (!response.headers[name]) response.headers[name] = { value };
  }
  delete response.headers['x-powered-by'];
  return response;
}
