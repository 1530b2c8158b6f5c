// njs header filter for the `js` benchmark scenario: the nginx counterpart of
// ../functions/add-header.js (adds X-Bench: 1 to every response, cache hits included).
function addHeader(r) {
    r.headersOut['X-Bench'] = '1';
}

export default { addHeader };
