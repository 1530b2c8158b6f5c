// The errors of the string built-ins Verge guards from Go (a result past the length limit) are
// RangeErrors as Node's are: their type, name, message, stack line and own properties. (Where
// Node parses JSON nested deeper than Verge's call depth, Verge throws a RangeError:
// TestGuardsIgnoreReplacedGlobals.)
exports.handler = async (event) => {
  const out = [];
  for (const f of [() => 'x'.repeat(2 ** 30), () => 'a'.padEnd(2 ** 30)]) {
    try {
      f();
      out.push('no error');
    } catch (e) {
      out.push([e instanceof RangeError, e instanceof Error, Object.getPrototypeOf(e) === RangeError.prototype, e.name, e.message,
        e.stack.split('\n')[0], Object.keys(e), Object.getOwnPropertyNames(e).sort(), String(e)]);
    }
  }
  console.log(JSON.stringify(out));
  return event.Records[0].cf.request;
};
