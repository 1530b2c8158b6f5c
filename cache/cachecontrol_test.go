package cache

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// goldenCase is one case of a golden file: input lines, then "----", then the
// expected output lines; cases are separated by "====" and the file opens
// with a comment header ended by "====".
type goldenCase struct{ in, want []string }

func readGolden(t *testing.T, path string) (header []string, cases []goldenCase) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	i := 0
	for ; i < len(lines) && lines[i] != "===="; i++ {
		header = append(header, lines[i])
	}
	for i++; i < len(lines); i++ {
		var c goldenCase
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.in = append(c.in, lines[i])
		}
		for i++; i < len(lines) && lines[i] != "===="; i++ {
			c.want = append(c.want, lines[i])
		}
		cases = append(cases, c)
	}
	return header, cases
}

func writeGolden(t *testing.T, path string, header []string, cases []goldenCase) {
	t.Helper()
	var b strings.Builder
	for _, l := range header {
		b.WriteString(l + "\n")
	}
	for _, c := range cases {
		b.WriteString("====\n" + strings.Join(c.in, "\n") + "\n----\n" + strings.Join(c.want, "\n") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCacheControlGolden(t *testing.T) {
	path := filepath.Join("testdata", "cachecontrol.txt")
	header, cases := readGolden(t, path)
	if len(cases) < 10 {
		t.Fatalf("%s: only %d cases; is the file intact?", path, len(cases))
	}
	for i := range cases {
		c := &cases[i]
		var cc CacheControl
		for _, l := range c.in {
			cc.Parse(l)
		}
		got := cc.String()
		if got == "" {
			got = "(none)"
		}
		if *update {
			c.want = []string{got}
			continue
		}
		if want := strings.Join(c.want, "\n"); got != want {
			t.Errorf("case %d %q:\n got %s\nwant %s", i, c.in, got, want)
		}
	}
	if *update {
		writeGolden(t, path, header, cases)
	}
}

func TestParseCacheControlFields(t *testing.T) {
	tests := []struct {
		in   string
		want CacheControl
	}{
		{"", CacheControl{}},
		{"max-age=0", CacheControl{HasMaxAge: true}},
		{"max-age=10, s-maxage=20", CacheControl{HasMaxAge: true, MaxAge: 10 * time.Second, HasSMaxAge: true, SMaxAge: 20 * time.Second}},
		{"stale-while-revalidate=5, stale-if-error=6", CacheControl{
			HasStaleWhileRevalidate: true, StaleWhileRevalidate: 5 * time.Second,
			HasStaleIfError: true, StaleIfError: 6 * time.Second,
		}},
		{"max-age=2147483647", CacheControl{HasMaxAge: true, MaxAge: (1<<31 - 1) * time.Second}},
		{"max-age=2147483648", CacheControl{HasMaxAge: true, MaxAge: MaxDelta}},
		{"max-age=99999999999999999999", CacheControl{HasMaxAge: true, MaxAge: MaxDelta}},
		{"no-store, no-cache, private, public", CacheControl{NoStore: true, NoCache: true, Private: true, Public: true}},
	}
	for _, tt := range tests {
		if got := ParseCacheControl(tt.in); got != tt.want {
			t.Errorf("ParseCacheControl(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseCacheControlAllocs(t *testing.T) {
	v := `public, max-age=60, s-maxage="120", private="a, b", x-junk;, stale-if-error=5`
	if n := testing.AllocsPerRun(100, func() { _ = ParseCacheControl(v) }); n != 0 {
		t.Fatalf("ParseCacheControl allocates %v times, want 0", n)
	}
}

// FuzzParseCacheControl checks that any input parses without panicking into
// values within range, that String round-trips, and that parsing a value
// twice changes nothing (first valued occurrence wins, flags are sticky).
func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"", "max-age=60", "public, max-age=60, s-maxage=120", `private="a, b", no-cache="x\"y"`,
		"max-age=99999999999999999999", "max-age=abc, =x, ,,", `foo="unterminated`,
		"no-store=1, public=2", "MAX-AGE = 5\t,\tImmutable", "ü, max-age=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := ParseCacheControl(s)
		for _, d := range []time.Duration{cc.MaxAge, cc.SMaxAge, cc.StaleWhileRevalidate, cc.StaleIfError} {
			if d < 0 || d > MaxDelta || d%time.Second != 0 {
				t.Fatalf("ParseCacheControl(%q): duration %v out of range", s, d)
			}
		}
		if !cc.HasMaxAge && cc.MaxAge != 0 || !cc.HasSMaxAge && cc.SMaxAge != 0 {
			t.Fatalf("ParseCacheControl(%q): value without Has flag: %+v", s, cc)
		}
		if back := ParseCacheControl(cc.String()); back != cc {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v", s, cc, cc.String(), back)
		}
		twice := cc
		twice.Parse(s)
		if twice != cc {
			t.Fatalf("parsing %q twice: %+v, then %+v", s, cc, twice)
		}
	})
}
