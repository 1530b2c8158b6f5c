function handler(event) {
  return event.request.headers['x-missing'].value;
}
