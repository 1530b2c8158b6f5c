package jsruntime

import (
	"strings"
	"testing"
)

func TestThrowSite(t *testing.T) {
	for stack, want := range map[string]string{
		"Error: n1\n\tat boom (/var/task/helper.js:2:9(7))\n\tat /var/task/st.js:2:45(4)\n":         "/var/task/helper.js:2:9",
		"Error: n1\n\tat /var/task/st.js:2:45(4)\n":                                                 "/var/task/st.js:2:45",
		"SyntaxError: x\n\tat parse (native)\n\tat exports.handler (/var/task/index.js:3:59(12))\n": "/var/task/index.js:3:59",
		"Error: x\n\tat new Foo (/var/task/a.js:1:1(1))\n":                                          "/var/task/a.js:1:1",
		"Error: x\n    at Object.boom (/tmp/helper.js:2:9)\n":                                       "/tmp/helper.js:2:9", // Node's own format
		"Error: no frame":                 "",
		"Error: x\n\tat parse (native)\n": "",
		"":                                "",
	} {
		if got := throwSite(stack); got != want {
			t.Errorf("throwSite(%q) = %q, want %q", stack, got, want)
		}
	}
}

// FuzzThrowSite: whatever a thrown object's stack property says, throwSite returns part of it
// and never panics.
func FuzzThrowSite(f *testing.F) {
	f.Add("Error: n1\n\tat boom (/var/task/helper.js:2:9(7))\n")
	f.Add("\tat (()\n at ) (\nat x (y (z))")
	f.Fuzz(func(t *testing.T, stack string) {
		if site := throwSite(stack); site != "" && !strings.Contains(stack, site) {
			t.Fatalf("throwSite(%q) = %q, not part of it", stack, site)
		}
	})
}
