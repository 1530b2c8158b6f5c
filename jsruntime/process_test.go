package jsruntime_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

func readPackage(t *testing.T, dir string) jsruntime.Code {
	t.Helper()
	code := jsruntime.Code{Files: map[string]string{}, Entry: "index.js"}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "expected.json") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		code.Files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestProcessParity runs the corpus in a worker process and checks that results, outputs,
// logs and errors are exactly those of in-process runs: the wire protocol loses nothing.
func TestProcessParity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	dirs, _ := filepath.Glob("testdata/corpus/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			var meta caseMeta
			readJSON(t, filepath.Join(dir, "meta.json"), &meta)
			b, err := os.ReadFile(filepath.Join(dir, "event.json"))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := jsruntime.ParseEvent(b, "")
			if err != nil {
				t.Fatal(err)
			}
			var store *jsruntime.KeyValueStore // kvs.json: the case's KeyValueStore
			if _, err := os.Stat(filepath.Join(dir, "kvs.json")); err == nil {
				if store, err = jsruntime.LoadKeyValueStore(filepath.Join(dir, "kvs.json")); err != nil {
					t.Fatal(err)
				}
			}
			var invs [2]jsruntime.Invocation
			for i, iso := range []jsruntime.Isolation{jsruntime.InProcess, jsruntime.Process} {
				f, err := jsruntime.New(jsruntime.Options{Name: "index", Runtime: meta.Runtime, Code: readPackage(t, dir), Isolation: iso, KVS: store,
					Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
				if err != nil {
					t.Fatal(err)
				}
				invs[i] = f.InvokeDetailed(context.Background(), ev)
				f.Close()
			}
			a, p := invs[0], invs[1]
			if !reflect.DeepEqual(a.Result, p.Result) {
				ja, _ := json.Marshal(a.Result)
				jp, _ := json.Marshal(p.Result)
				t.Errorf("result:\n in-process %s\n process    %s", ja, jp)
			}
			if string(a.Output) != string(p.Output) || !reflect.DeepEqual(a.Logs, p.Logs) {
				t.Errorf("output/logs differ:\n%s %q\n%s %q", a.Output, a.Logs, p.Output, p.Logs)
			}
			if (a.Err == nil) != (p.Err == nil) || a.Err != nil && a.Err.Error() != p.Err.Error() {
				t.Errorf("errors differ: %v / %v", a.Err, p.Err)
			}
		})
	}
}
