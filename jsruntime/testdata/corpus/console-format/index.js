const util = require('util');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  console.log('x', { a: 1 });
  console.log('%s has %d headers: %j', request.uri, Object.keys(request.headers).length, Object.keys(request.headers));
  console.log(request.headers.host);
  console.log([1, 2, 3], ['a', "it's"], null, undefined, true, 3.5, -0);
  console.info({ nested: { deep: { deeper: { deepest: 1 } } }, list: [[1, [2, [3, [4]]]]] });
  console.warn(new Map([['k', 'v']]), new Set([1, 2]), Buffer.from('edge'));
  console.error('%o', 'str', 42);
  console.log(util.format('%s=%s', 'a', 'b', 'extra'), util.inspect({ 'content-type': 'text/html', x: [] }));
  console.log({ long: 'x'.repeat(60), other: 'y'.repeat(30) });
  console.log([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  console.log(function named() {}, class Foo {}, Symbol('s'), 10n, new Date(0), /re/g);
  console.log(Object.create(null), [], {}, [undefined, , 3]);
  return request;
};
