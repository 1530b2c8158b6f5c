exports.handler = function (event, context) {
  context.succeed({ status: '403', statusDescription: 'Forbidden', body: 'blocked: ' + event.Records[0].cf.request.clientIp });
};
