package edge

import "strings"

// pathPattern is a CloudFront path pattern: '*' matches any run of characters, slashes
// included; '?' matches exactly one; everything else matches itself, case-sensitively. The
// leading '/' is optional in the pattern ("images/*" and "/images/*" are the same).
type pathPattern string

func compilePattern(p string) pathPattern {
	if p != "*" && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "*") {
		p = "/" + p
	}
	return pathPattern(p)
}

// match reports whether path matches. It does not allocate, and runs in O(len(p)·len(path)) at
// worst: on a mismatch it retries from the last '*' only.
func (p pathPattern) match(path []byte) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(path) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == path[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
