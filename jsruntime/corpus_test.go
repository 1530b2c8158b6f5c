package jsruntime_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// caseMeta is a corpus case's meta.json.
type caseMeta struct {
	Runtime    string `json:"runtime"`
	Expect     string `json:"expect"`     // ok, error, validation, timeout
	LooseError bool   `json:"looseError"` // engine messages differ: compare the error name only
}

type expected struct {
	Output json.RawMessage `json:"output"`
	Logs   []string        `json:"logs"`
	Error  *string         `json:"error"`
}

// TestCorpus runs every function in testdata/corpus on its event and compares the output, the
// console lines and the error with what Node.js produced (testdata/golden.js).
func TestCorpus(t *testing.T) {
	dirs, err := filepath.Glob("testdata/corpus/*")
	if err != nil || len(dirs) < 25 {
		t.Fatalf("corpus: %d cases, err %v", len(dirs), err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			var meta caseMeta
			var want expected
			readJSON(t, filepath.Join(dir, "meta.json"), &meta)
			readJSON(t, filepath.Join(dir, "expected.json"), &want)
			event, err := os.ReadFile(filepath.Join(dir, "event.json"))
			if err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(dir, "kvs.json") // a KeyValueStore in CloudFront's import format
			if _, err := os.Stat(store); err != nil {
				store = ""
			}
			rep, err := jsruntime.RunTest(context.Background(), jsruntime.TestOptions{
				File: filepath.Join(dir, "index.js"), Event: event, Runtime: meta.Runtime, KVS: store,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, rep.Output, want.Output) {
				t.Errorf("output:\n got  %s\n want %s", rep.Output, want.Output)
			}
			if !reflect.DeepEqual(rep.Logs, want.Logs) && !(len(rep.Logs) == 0 && len(want.Logs) == 0) {
				t.Errorf("logs:\n got  %q\n want %q", rep.Logs, want.Logs)
			}
			switch meta.Expect {
			case "ok":
				if rep.Error != nil {
					t.Errorf("error: %s", *rep.Error)
				}
			case "error":
				if rep.Error == nil || want.Error == nil {
					t.Fatalf("error: got %v, Node %v", rep.Error, want.Error)
				}
				match := *want.Error
				if meta.LooseError {
					match, _, _ = strings.Cut(match, ":")
				}
				if !strings.Contains(*rep.Error, match) {
					t.Errorf("error %q does not contain Node's %q", *rep.Error, match)
				}
			default:
				if rep.Error == nil || !strings.HasPrefix(*rep.Error, "function "+meta.Expect) {
					t.Errorf("error: got %v, want a %s error", rep.Error, meta.Expect)
				}
			}
		})
	}
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("output %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("expected %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

var _ = hooks.Validation
