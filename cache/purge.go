package cache

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vergecdn/verge/hostname"
)

// Purge is one purge, as `verge cache purge PATTERN [--soft] [--host H]` asks for it.
type Purge struct {
	// Pattern selects the objects by path or tag (see ParsePurgePattern).
	Pattern string `json:"pattern"`
	// Host, when set, limits the purge to the objects stored for requests to that host (one
	// site of several behind the node). Compared as the edge normalises hosts: lower case,
	// no trailing dot, no default port.
	Host string `json:"host,omitempty"`
	// Soft marks the objects stale instead of removing them: the next request revalidates
	// (a 304 costs no body), and stale-if-error can still answer while the origin is down.
	Soft bool `json:"soft,omitempty"`
}

// Parse returns the pattern that selects p's objects.
func (p Purge) Parse() (PurgePattern, error) {
	pat, err := ParsePurgePattern(p.Pattern)
	if err != nil {
		return pat, err
	}
	// Either scheme's default port: a purge names a site, not a scheme.
	h := hostname.Trim([]byte(strings.ToLower(p.Host)), ":80")
	pat.host = string(hostname.Trim(h, ":443"))
	return pat, nil
}

// PurgePattern selects the objects a purge removes. Build one with
// ParsePurgePattern or Purge.Parse; the zero value matches nothing.
type PurgePattern struct {
	kind  purgeKind
	value string
	host  string // "": any
}

type purgeKind uint8

const (
	purgeNothing purgeKind = iota
	purgeAll
	purgePath
	purgeGlob
	purgeTag
)

// ParsePurgePattern parses a purge pattern, the argument of
// `verge cache purge`:
//
//	/a/b       the objects whose path is exactly /a/b (every query string and variant)
//	/images/*  a glob over the path: '*' matches any run of bytes, '/' included
//	tag:KEY    the objects tagged KEY by Surrogate-Key or Cache-Tag
//	all        everything
func ParsePurgePattern(s string) (PurgePattern, error) {
	switch {
	case s == "all":
		return PurgePattern{kind: purgeAll}, nil
	case strings.HasPrefix(s, "tag:"):
		tag := s[len("tag:"):]
		if tag == "" {
			return PurgePattern{}, errors.New("cache: purge: empty tag in \"tag:\"")
		}
		return PurgePattern{kind: purgeTag, value: tag}, nil
	case strings.HasPrefix(s, "/"):
		if strings.Contains(s, "*") {
			return PurgePattern{kind: purgeGlob, value: s}, nil
		}
		return PurgePattern{kind: purgePath, value: s}, nil
	}
	return PurgePattern{}, fmt.Errorf("cache: purge: invalid pattern %q (want /path, /glob/*, tag:KEY or all)", s)
}

// Match reports whether the pattern selects o.
func (p PurgePattern) Match(o *Object) bool {
	if p.host != "" && o.Host != p.host {
		return false
	}
	switch p.kind {
	case purgeAll:
		return true
	case purgePath:
		return o.Path == p.value
	case purgeGlob:
		return MatchGlob(p.value, o.Path)
	case purgeTag:
		return slices.Contains(o.Tags, p.value)
	}
	return false
}

// String returns the pattern as ParsePurgePattern accepts it.
func (p PurgePattern) String() string {
	switch p.kind {
	case purgeAll:
		return "all"
	case purgeTag:
		return "tag:" + p.value
	}
	return p.value
}

// MatchGlob reports whether s matches pattern, in which '*' matches any run
// of bytes ('/' included) and every other byte matches itself. It runs in
// O(len(pattern)*len(s)) time at worst and does not allocate.
func MatchGlob(pattern, s string) bool {
	px, sx := 0, 0
	star, retry := -1, 0 // the last '*' seen, and where its match would next end
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			star, retry = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case star >= 0:
			// Let the last '*' swallow one more byte and try again from there.
			retry++
			px, sx = star+1, retry
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
