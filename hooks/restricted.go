package hooks

import "strings"

// Header restrictions from CloudFront's "Restrictions on all edge functions" and "Lambda@Edge
// restrictions" pages (docs/hooks.md, "What a function may not do").

// disallowed headers are never shown to functions, and a function must not add them.
var disallowed = map[string]bool{
	"connection": true, "expect": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "proxy-connection": true, "trailer": true, "upgrade": true,
	"x-accel-buffering": true, "x-accel-charset": true, "x-accel-limit-rate": true,
	"x-accel-redirect": true, "x-amzn-auth": true, "x-amzn-cf-billing": true, "x-amzn-cf-id": true,
	"x-amzn-cf-xff": true, "x-amzn-errortype": true, "x-amzn-fle-profile": true,
	"x-amzn-header-count": true, "x-amzn-header-order": true,
	"x-amzn-lambda-integration-tag": true, "x-amzn-requestid": true, "x-cache": true,
	"x-forwarded-proto": true, "x-real-ip": true,
}

// disallowedPrefixes are the wildcard entries (X-Amz-Cf-*, X-Edge-*).
var disallowedPrefixes = []string{"x-amz-cf-", "x-edge-"}

// IsDisallowed reports whether a header name is one functions may neither see nor set. It runs
// for every header line of every event, so it does not allocate, and most names are decided
// by their first letter.
func IsDisallowed(name string) bool {
	if name == "" || !disallowedFirst[name[0]|0x20] {
		return false
	}
	for _, p := range disallowedPrefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	if len(name) > maxDisallowedLen {
		return false
	}
	var buf [maxDisallowedLen]byte
	l := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	return disallowed[string(l)] // a map index by string(bytes) does not copy
}

// disallowedFirst marks the first letters of the disallowed names and prefixes.
var disallowedFirst = func() (t [256]bool) {
	for name := range disallowed {
		t[name[0]] = true
	}
	for _, p := range disallowedPrefixes {
		t[p[0]] = true
	}
	return t
}()

// maxDisallowedLen is at least the length of the longest name in disallowed (a test checks).
const maxDisallowedLen = 32

// readOnly lists, per stage, the headers a function may read but not add, change or delete.
var readOnly = [numStages][]string{
	ViewerRequest:  {"content-length", "host", "transfer-encoding", "via"},
	OriginRequest:  {"accept-encoding", "content-length", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "transfer-encoding", "via"},
	OriginResponse: {"transfer-encoding", "via"},
	ViewerResponse: {"warning", "via"},
}

// cffReadOnly is the CloudFront Functions list: viewer-request protects Host too; the
// origin-stage lists do not apply (CloudFront Functions run at viewer stages only).
var cffReadOnly = [numStages][]string{
	ViewerRequest:  {"content-length", "host", "transfer-encoding", "via"},
	ViewerResponse: {"warning", "via"},
}

// ReadOnlyHeaders returns the lower-case names a function of dialect d must leave alone at s.
func ReadOnlyHeaders(d Dialect, s Stage) []string {
	if s >= numStages {
		return nil
	}
	if d == CloudFrontFunctions {
		return cffReadOnly[s]
	}
	return readOnly[s]
}
