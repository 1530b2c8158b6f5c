package origin

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// takeHeader removes every field named name (any case) from h and returns
// their values joined with ", " (RFC 9110 5.3), or nil if there were none.
// Matching ignores case whether or not h normalizes names.
func takeHeader(h *fasthttp.RequestHeader, name string) []byte {
	var joined []byte
	for k, v := range h.All() {
		if asciiEqualFold(k, name) {
			joined = appendListItem(joined, string(v))
		}
	}
	if joined != nil {
		delFields(h, func(k []byte) bool { return asciiEqualFold(k, name) })
	}
	return joined
}

// appendListItem appends item to a comma-separated field value.
func appendListItem(list []byte, item string) []byte {
	if len(bytes.TrimSpace(list)) > 0 {
		list = append(list, ", "...)
	}
	return append(list, item...)
}

// viaNames reports whether a Via value has an entry received by name, e.g.
// "1.0 fred, 1.1 verge (Verge)" names "verge" (RFC 9110 7.6.3:
// received-protocol received-by [comment]).
func viaNames(via []byte, name string) bool {
	for entry := range bytes.SplitSeq(via, []byte{','}) {
		fields := bytes.Fields(entry)
		if len(fields) >= 2 && asciiEqualFold(fields[1], name) {
			return true
		}
	}
	return false
}
