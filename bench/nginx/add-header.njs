// njs handlers for the js benchmark scenarios, the nginx counterparts of ../functions/:
// addHeader (a header filter) adds X-Bench: 1 to every response, cache hits included, as
// add-header.js does; rewriteUri (a js_set variable) maps /page to /1k.bin, as rewrite-uri.js
// does.
function addHeader(r) {
    r.headersOut['X-Bench'] = '1';
}

function rewriteUri(r) {
    return r.uri === '/page' ? '/1k.bin' : r.uri;
}

export default { addHeader, rewriteUri };
