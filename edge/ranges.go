package edge

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/origin"
)

// byteRange is a satisfiable range of a representation: [first, last], both included.
type byteRange struct{ first, last int64 }

// maxRanges bounds the ranges one request may ask for; more are answered with the whole
// representation (RFC 9110 14.2 lets a server ignore a Range), so that a request cannot make
// the edge assemble thousands of parts.
const maxRanges = 16

// parseRange parses a Range field value (RFC 9110 14.1.2) against a representation of size
// bytes. It returns the satisfiable ranges in the order asked, and ok false when the field is
// to be ignored: not the bytes unit, malformed, too many ranges, or several ranges that
// overlap or add up to more than the representation (RFC 9110 14.2 allows ignoring them, and
// a multipart answer of 16 copies of a large object would cost 16 times its size). Ranges
// that cannot be satisfied are left out; none left (with ok) means 416.
func parseRange(v []byte, size int64) (ranges []byteRange, ok bool) {
	unit, set, found := bytes.Cut(v, []byte("="))
	if !found || !bytes.EqualFold(bytes.TrimSpace(unit), []byte("bytes")) {
		return nil, false
	}
	n := 0
	for spec := range bytes.SplitSeq(set, []byte(",")) {
		spec = bytes.Trim(spec, " \t")
		if len(spec) == 0 {
			continue // empty list elements are allowed (RFC 9110 5.6.1)
		}
		if n++; n > maxRanges {
			return nil, false
		}
		firstB, lastB, dash := bytes.Cut(spec, []byte("-"))
		if !dash {
			return nil, false
		}
		if len(firstB) == 0 { // suffix-range: the last N bytes
			suffix, ok := parseDigits(lastB)
			if !ok {
				return nil, false
			}
			if suffix > 0 && size > 0 {
				ranges = append(ranges, byteRange{max(0, size-suffix), size - 1})
			}
			continue
		}
		first, ok := parseDigits(firstB)
		if !ok {
			return nil, false
		}
		last := size - 1
		if len(lastB) > 0 {
			l, ok := parseDigits(lastB)
			if !ok || l < first {
				return nil, false
			}
			last = min(l, size-1)
		}
		if first < size {
			ranges = append(ranges, byteRange{first, last})
		}
	}
	if n == 0 || overlapping(ranges, size) {
		return nil, false
	}
	return ranges, true
}

// overlapping reports whether several ranges overlap or together exceed size bytes.
func overlapping(ranges []byteRange, size int64) bool {
	if len(ranges) < 2 {
		return false
	}
	total := int64(0)
	for i, r := range ranges {
		total += r.last - r.first + 1
		for _, o := range ranges[:i] {
			if r.first <= o.last && o.first <= r.last {
				return true
			}
		}
	}
	return total > size
}

// parseDigits parses a non-empty run of ASCII digits, saturating far beyond any body size.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<50 {
			n = n*10 + int64(c-'0')
		}
	}
	return n, true
}

// ifRangeHolds reports whether an If-Range precondition (RFC 9110 13.1.5) lets the Range
// apply to the stored object: an entity tag must match its ETag strongly (neither weak), a
// date must equal its Last-Modified. Absent, it holds.
func ifRangeHolds(ifRange []byte, obj *cache.Object) bool {
	if len(ifRange) == 0 {
		return true
	}
	etag, lm := obj.Validators()
	if ifRange[0] == '"' || bytes.HasPrefix(ifRange, []byte("W/")) {
		return ifRange[0] == '"' && etag != "" && etag[0] == '"' && string(ifRange) == etag
	}
	since, err1 := http.ParseTime(string(ifRange))
	modified, err2 := http.ParseTime(lm)
	return err1 == nil && err2 == nil && since.Equal(modified)
}

// tooLarge reports whether a fetch failed because the whole response was too large to take.
func tooLarge(err error) bool {
	var oe *origin.Error
	return errors.As(err, &oe) && oe.Kind == origin.TooLarge
}

// writeRange answers a Range request from a stored 200 response (status, headers, body): a
// 206 with one range or several as multipart/byteranges, or a 416 when none can be
// satisfied. It reports false, writing nothing, when the Range is to be ignored (the whole
// object is the answer then).
func writeRange(dst *fasthttp.Response, rng []byte, headers []cache.Header, body []byte) bool {
	size := int64(len(body))
	ranges, ok := parseRange(rng, size)
	if !ok {
		return false
	}
	total := "/" + strconv.FormatInt(size, 10)
	if len(ranges) == 0 {
		writeStored(dst, fasthttp.StatusRequestedRangeNotSatisfiable, withoutFields(headers, "Content-Type"), nil)
		dst.Header.Set("Content-Range", "bytes *"+total)
		return true
	}
	if len(ranges) == 1 {
		r := ranges[0]
		writeStored(dst, fasthttp.StatusPartialContent, headers, body[r.first:r.last+1])
		dst.Header.Set("Content-Range", contentRange(r)+total)
		return true
	}
	contentType := ""
	for _, h := range headers {
		if strings.EqualFold(h.Name, "Content-Type") {
			contentType = h.Value
			break
		}
	}
	boundary := rand.Text() // not to be found in the body by chance
	var parts bytes.Buffer
	for _, r := range ranges {
		parts.WriteString("--" + boundary + "\r\n")
		if contentType != "" {
			parts.WriteString("Content-Type: " + contentType + "\r\n")
		}
		parts.WriteString("Content-Range: " + contentRange(r) + total + "\r\n\r\n")
		parts.Write(body[r.first : r.last+1])
		parts.WriteString("\r\n")
	}
	parts.WriteString("--" + boundary + "--\r\n")
	writeStored(dst, fasthttp.StatusPartialContent, withoutFields(headers, "Content-Type"), parts.Bytes())
	dst.Header.Set("Content-Type", "multipart/byteranges; boundary="+boundary)
	return true
}

func contentRange(r byteRange) string {
	return "bytes " + strconv.FormatInt(r.first, 10) + "-" + strconv.FormatInt(r.last, 10)
}

// withoutFields returns headers less the fields named (any case).
func withoutFields(headers []cache.Header, names ...string) []cache.Header {
	out := make([]cache.Header, 0, len(headers))
	for _, h := range headers {
		if !equalFoldAny([]byte(h.Name), names...) {
			out = append(out, h)
		}
	}
	return out
}
