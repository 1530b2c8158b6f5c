// unavailable.js: modules an edge function may require but cannot use here (network, file
// system, processes, compression). Requiring them works, so code that loads them at module
// scope still starts; calling any of their functions throws a clear error.
// Module factory: (module, exports, require, natives).
'use strict';
const name = natives.moduleName();
module.exports = new Proxy({}, {
  get(target, prop) {
    if (prop === '__esModule' || typeof prop === 'symbol') return undefined;
    return function () {
      const e = new Error('require(\'' + name + '\').' + String(prop) + ' is not available in Verge edge functions');
      e.code = 'ERR_VERGE_UNAVAILABLE';
      throw e;
    };
  },
});
