exports.handler = (event, context, callback) => {
  setTimeout(() => callback(new Error('denied by policy')), 1);
};
