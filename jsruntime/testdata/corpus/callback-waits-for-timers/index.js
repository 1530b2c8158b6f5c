exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  setTimeout(() => console.log('timer ran after the callback'), 5);
  callback(null, request);
  console.log('callback called');
};
