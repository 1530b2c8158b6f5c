function handler(event) {
  var response = event.response;
  var cookies = response.cookies;
  cookies.session = { value: 'abc', attributes: 'Path=/; Secure; HttpOnly' };
  cookies.pref = { value: 'dark', attributes: 'Path=/', multiValue: [{ value: 'dark', attributes: 'Path=/' }, { value: 'wide', attributes: 'Path=/docs' }] };
  response.headers['cache-control'] = { value: 'private, max-age=0' };
  return response;
}
