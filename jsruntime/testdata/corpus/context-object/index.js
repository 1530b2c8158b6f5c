exports.handler = async (event, context) => {
  console.log(typeof context.functionName, context.functionName.startsWith('us-east-1.'));
  console.log(context.getRemainingTimeInMillis() > 0, context.callbackWaitsForEmptyEventLoop, typeof context.awsRequestId);
  console.log(context.logGroupName.startsWith('/aws/lambda/us-east-1.'), typeof context.invokedFunctionArn, context.memoryLimitInMB);
  return event.Records[0].cf.request;
};
