package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestExamples runs every function under examples/ as the README tells a reader to, from the
// repository's root: `verge fn test --file ... --event ... --runtime ...`, and compares what it
// prints with expected.json, which real Node.js wrote (jsruntime/testdata/golden.js). The
// CloudFront Functions corpus of jsruntime/testdata runs the same way, with --kvs when a case
// has a KeyValueStore (kvs.json).
func TestExamples(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob(filepath.Join(root, "examples", "*", "*"))
	if err != nil || len(dirs) < 8 {
		t.Fatalf("examples: %d, err %v", len(dirs), err)
	}
	cff, err := filepath.Glob(filepath.Join(root, "jsruntime", "testdata", "corpus", "cff[12]-*"))
	if err != nil || len(cff) < 15 {
		t.Fatalf("CloudFront Functions corpus: %d, err %v", len(cff), err)
	}
	dirs = append(dirs, cff...)
	for _, dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			var meta struct {
				Runtime string `json:"runtime"`
			}
			var want struct {
				Output json.RawMessage `json:"output"`
				Logs   []string        `json:"logs"`
				Error  *string         `json:"error"`
			}
			readJSONFile(t, filepath.Join(dir, "meta.json"), &meta)
			readJSONFile(t, filepath.Join(dir, "expected.json"), &want)
			args := []string{"fn", "test", "--file", filepath.Join(rel, "index.js"),
				"--event", filepath.Join(rel, "event.json"), "--runtime", meta.Runtime}
			if _, err := os.Stat(filepath.Join(dir, "kvs.json")); err == nil {
				args = append(args, "--kvs", filepath.Join(rel, "kvs.json"))
			}
			cmd := exec.Command(verge, args...)
			cmd.Dir = root
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("verge fn test: %v\n%s", err, stderr.String())
			}
			var got struct {
				Output json.RawMessage `json:"output"`
				Logs   []string        `json:"logs"`
				Error  *string         `json:"error"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			var g, w any
			_ = json.Unmarshal(got.Output, &g)
			_ = json.Unmarshal(want.Output, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("output:\n got  %s\n want %s", got.Output, want.Output)
			}
			if len(got.Logs)+len(want.Logs) > 0 && !reflect.DeepEqual(got.Logs, want.Logs) {
				t.Errorf("logs: got %q, want %q", got.Logs, want.Logs)
			}
			if (got.Error == nil) != (want.Error == nil) {
				t.Errorf("error: got %v, want %v", got.Error, want.Error)
			}
		})
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
