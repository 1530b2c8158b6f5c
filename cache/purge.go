package cache

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// PurgePattern selects the objects a purge removes. Build one with
// ParsePurgePattern; the zero value matches nothing.
type PurgePattern struct {
	kind  purgeKind
	value string
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
