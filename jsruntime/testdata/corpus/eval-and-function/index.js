// eval and the Function constructors work in Lambda@Edge functions, as in Node: bundled code
// reaches the global object with Function('return this')(), and libraries compile templates
// and schemas with new Function. CloudFront Functions refuse them (TestEvalInCloudFrontFunctions).
exports.handler = async (event) => {
  const r = event.Records[0].cf.request;
  const x = 2;
  const out = [
    eval('1 + x'), // a direct eval sees the caller's scope
    (0, eval)('typeof x'), // an indirect one runs in the global scope
    Function('return this')() === globalThis,
    new Function('a', 'b', 'return a * b')(6, 7),
    (() => 1).constructor('return 3')(),
    Object.getPrototypeOf(function* () {}).constructor('yield 4')().next().value,
    await Object.getPrototypeOf(async function () {}).constructor('return 5')(),
    Object.getOwnPropertyDescriptor(globalThis, 'eval').enumerable,
    typeof Function.prototype.constructor,
  ];
  try { eval('let ('); } catch (e) { out.push(e.name); }
  console.log(JSON.stringify(out));
  r.headers['x-eval'] = [{ key: 'X-Eval', value: String(out[0]) }];
  return r;
};
