package cache

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"/images/*", "/images/cat.jpg", true},
		{"/images/*", "/images/a/b/c.png", true}, // '*' crosses '/'
		{"/images/*", "/images/", true},
		{"/images/*", "/images", false},
		{"/images/*", "/imagesx/cat.jpg", false},
		{"/*.jpg", "/a/b.jpg", true},
		{"/*.jpg", "/a/b.jpg.png", false},
		{"/*.jpg", "/.jpg", true},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/abcabc", true},
		{"/a*b*c", "/acb", false},
		{"/a**", "/a", true},
		{"*", "", true},
		{"*", "/anything/at/all", true},
		{"", "", true},
		{"", "/", false},
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"/a?b", "/a?b", true}, // '?' is literal
		{"/a?b", "/axb", false},
		{"/[ab]", "/a", false}, // no character classes
		{"/*/*/*", "/a/b", false},
		{"/*/*/*", "/a/b/c", true},
		{"/*aaa", "/" + strings.Repeat("a", 50), true},
		{"/*a*a*a*b", "/" + strings.Repeat("a", 50), false},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// globRegexp is the reference MatchGlob is checked against.
func globRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
}

// FuzzMatchGlob checks MatchGlob against a regular expression built from the
// same pattern, and that a pattern without '*' matches only itself.
func FuzzMatchGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"/images/*", "/images/a/b.jpg"}, {"/*.jpg", "/x.jpg"}, {"/a*b*c", "/acb"},
		{"**", ""}, {"/a?b", "/a?b"}, {"*\x00*", "\x00"}, {"/ü*", "/üx"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 {
			return // keep the reference regexp cheap
		}
		if !strings.ContainsRune(pattern, '*') {
			if got := MatchGlob(pattern, s); got != (pattern == s) {
				t.Fatalf("MatchGlob(%q, %q) = %v without '*'", pattern, s, got)
			}
		}
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return // the regexp reference needs UTF-8; MatchGlob works on bytes
		}
		want := globRegexp(pattern).MatchString(s)
		if got := MatchGlob(pattern, s); got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	})
}

func TestParsePurgePattern(t *testing.T) {
	home := &Object{Path: "/", Tags: []string{"home"}}
	cat := &Object{Path: "/images/cat.jpg", Tags: []string{"img", "pets"}}
	deep := &Object{Path: "/images/a/b.png"}
	objs := []*Object{home, cat, deep}
	tests := []struct {
		pattern string
		matches []*Object // nil with wantErr
		wantErr bool
	}{
		{"all", objs, false},
		{"/", []*Object{home}, false},
		{"/images/cat.jpg", []*Object{cat}, false},
		{"/images", nil, false},
		{"/images/*", []*Object{cat, deep}, false},
		{"/*.png", []*Object{deep}, false},
		{"/*", objs, false},
		{"tag:pets", []*Object{cat}, false},
		{"tag:home", []*Object{home}, false},
		{"tag:nope", nil, false},
		{"tag:", nil, true},
		{"", nil, true},
		{"ALL", nil, true},
		{"images/*", nil, true},
		{"*", nil, true},
	}
	for _, tt := range tests {
		p, err := ParsePurgePattern(tt.pattern)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePurgePattern(%q) error = %v, want error %v", tt.pattern, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cache: purge: ") {
				t.Errorf("error %q lacks the component prefix", err)
			}
			continue
		}
		if p.String() != tt.pattern {
			t.Errorf("ParsePurgePattern(%q).String() = %q", tt.pattern, p.String())
		}
		var got []*Object
		for _, o := range objs {
			if p.Match(o) {
				got = append(got, o)
			}
		}
		if len(got) != len(tt.matches) {
			t.Errorf("%q matches %d objects, want %d", tt.pattern, len(got), len(tt.matches))
			continue
		}
		for i := range got {
			if got[i] != tt.matches[i] {
				t.Errorf("%q matches %s, want %s", tt.pattern, got[i].Path, tt.matches[i].Path)
			}
		}
	}
	if (PurgePattern{}).Match(home) {
		t.Error("the zero PurgePattern matches")
	}
}
