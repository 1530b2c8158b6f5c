// An async handler that never awaits (Verge compiles it without the keyword): microtasks it
// queues still run before the result is taken, a timer it sets does not (the invocation is
// over), and a thenable it returns is followed.
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  Promise.resolve().then(() => console.log('microtask ran'));
  queueMicrotask(() => console.log('queueMicrotask ran'));
  setTimeout(() => console.log('timer ran'), 0);
  console.log('returning a thenable');
  return { then(resolve) { console.log('then called'); resolve({ ...request, uri: '/from-thenable' }); } };
};
