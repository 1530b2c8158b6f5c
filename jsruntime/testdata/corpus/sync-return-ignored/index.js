exports.handler = (event) => {
  return event.Records[0].cf.request;
};
