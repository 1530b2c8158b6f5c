package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMistakesGetClearMessages: commands a user gets wrong say what is wrong, not what the
// node's routing or parser made of it.
func TestMistakesGetClearMessages(t *testing.T) {
	listen, admin := freeAddr(t), freeAddr(t)
	startVerge(t, "serve", "--origin", pathOrigin(t), "--listen", listen, "--admin", admin, "--data", t.TempDir())
	notZip := filepath.Join(t.TempDir(), "notazip.zip")
	if err := os.WriteFile(notZip, []byte("this is no zip archive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    string
		notWant string
	}{
		{"cluster members outside a fleet", []string{"cluster", "members"}, "not in a fleet", "no such route"},
		{"purge with an empty pattern", []string{"cache", "purge", ""}, "the pattern is empty", "want a JSON body"},
		{"deploy of a .zip that is not one", []string{"fn", "deploy", "x", "--file", notZip}, "not a valid zip archive", "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(verge, append(tt.args, "--admin", admin)...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), tt.notWant) {
				t.Fatalf("verge %v: %v\n%s\nwant a failure that says %q", tt.args, err, out, tt.want)
			}
		})
	}
}
