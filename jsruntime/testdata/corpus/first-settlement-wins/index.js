exports.handler = async (event, context, callback) => {
  callback(null, { status: '204', statusDescription: 'No Content' });
  throw new Error('ignored: the callback settled first');
};
