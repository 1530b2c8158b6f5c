exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log('this timer is frozen'), 50);
  callback(null, event.Records[0].cf.request);
};
