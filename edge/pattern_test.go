package edge

import "testing"

func TestPathPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*", "/", true},
		{"*", "/any/thing.jpg", true},
		{"/images/*", "/images/a.png", true},
		{"images/*", "/images/a/b/c.png", true}, // leading slash optional, '*' crosses '/'
		{"/images/*", "/images", false},
		{"/images/*", "/Images/a.png", false}, // case-sensitive
		{"/images/*.jpg", "/images/x/y.jpg", true},
		{"/images/*.jpg", "/images/x/y.jpeg", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/abbc", false},
		{"/api/*/v1/*", "/api/x/v1/y", true},
		{"/api/*/v1/*", "/api/x/v2/y", false},
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"*.php", "/index.php", true},
		{"/*a*a*a*a*b", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, tt := range tests {
		if got := compilePattern(tt.pattern).match([]byte(tt.path)); got != tt.want {
			t.Errorf("%q.match(%q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func FuzzPathPattern(f *testing.F) {
	for _, s := range [][2]string{{"/images/*", "/images/a"}, {"/a?c*", "/abcd"}, {"*", ""}, {"**?*", "/x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p := compilePattern(pattern)
		got := p.match([]byte(path))
		if want := naiveMatch(string(p), path); got != want {
			t.Fatalf("%q.match(%q) = %v, naive matcher says %v", p, path, got, want)
		}
	})
}

// naiveMatch is the textbook dynamic-programming matcher, the fuzz oracle: m[i][j] says
// whether p[i:] matches s[j:].
func naiveMatch(p, s string) bool {
	m := make([][]bool, len(p)+1)
	for i := range m {
		m[i] = make([]bool, len(s)+1)
	}
	m[len(p)][len(s)] = true
	for i := len(p) - 1; i >= 0; i-- {
		for j := len(s); j >= 0; j-- {
			switch {
			case p[i] == '*':
				m[i][j] = m[i+1][j] || (j < len(s) && m[i][j+1])
			case j < len(s) && (p[i] == '?' || p[i] == s[j]):
				m[i][j] = m[i+1][j+1]
			}
		}
	}
	return m[0][0]
}
