package registry_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/registry"
)

const hello = `exports.handler = async (event) => event.Records[0].cf.request;`

func open(t *testing.T, dir string) *registry.Store {
	t.Helper()
	s, err := registry.Open(registry.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func zipOf(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, src := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(src))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	f := must[registry.Function](t)(s.PutCode("alice", "hello", registry.Upload{Package: []byte(hello), Description: "d"}))
	if f.Runtime != registry.RuntimeLambdaEdge || f.Latest.Format != "js" || f.Latest.Entry != "index.js" || f.Stamp.Revision != 1 {
		t.Fatalf("function: %+v", f)
	}
	v1, created, err := s.Publish("alice", "hello", "first")
	if err != nil || !created || v1.Number != 1 {
		t.Fatalf("publish: %+v %v %v", v1, created, err)
	}
	if again, created, _ := s.Publish("alice", "hello", ""); created || again.Number != 1 {
		t.Fatalf("publishing unchanged code made a version: %+v", again)
	}
	must[registry.Function](t)(s.PutCode("alice", "hello", registry.Upload{Package: []byte(hello + "\n// v2")}))
	v2, _, _ := s.Publish("alice", "hello", "second")
	if v2.Number != 2 || v2.Code.SHA256 == v1.Code.SHA256 {
		t.Fatalf("v2: %+v", v2)
	}
	must[registry.Alias](t)(s.PutAlias("bob", "hello", "live", registry.AliasSpec{Version: 1, AdditionalVersion: 2, Weight: 0.25}))
	must[registry.Association](t)(s.Associate("bob", registry.Association{Behavior: "*", Event: "viewer-request", Function: "hello", Qualifier: "live"}))
	must[registry.Association](t)(s.Associate("bob", registry.Association{Behavior: "/img/*", Event: "origin-request", Function: "hello", Qualifier: "2"}))

	// In use: refused with a conflict.
	for name, err := range map[string]error{
		"version in alias":      s.DeleteVersion("x", "hello", 1),
		"version in assoc":      s.DeleteVersion("x", "hello", 2),
		"alias in assoc":        s.DeleteAlias("x", "hello", "live"),
		"function in an assoc":  s.DeleteFunction("x", "hello"),
		"unknown function":      s.DeleteFunction("x", "nope"),
		"unknown version":       s.DeleteVersion("x", "hello", 9),
		"dissociate nothing":    s.Dissociate("x", "/nothing", "viewer-request"),
		"alias to missing":      errOf(s.PutAlias("x", "hello", "beta", registry.AliasSpec{Version: 7})),
		"associate missing fn":  errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "viewer-response", Function: "nope", Qualifier: "1"})),
		"associate bad event":   errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "viewer", Function: "hello", Qualifier: "1"})),
		"associate unqualified": errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "viewer-response", Function: "hello"})),
		"associate $LATEST":     errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "viewer-response", Function: "hello", Qualifier: "$LATEST"})),
		"numeric alias refused": errOf(s.PutAlias("x", "hello", "12", registry.AliasSpec{Version: 1})),
	} {
		want := map[string]error{
			"version in alias": registry.ErrConflict, "version in assoc": registry.ErrConflict,
			"alias in assoc": registry.ErrConflict, "function in an assoc": registry.ErrConflict,
			"unknown function": registry.ErrNotFound, "unknown version": registry.ErrNotFound,
			"dissociate nothing": registry.ErrNotFound, "alias to missing": registry.ErrNotFound,
			"associate missing fn": registry.ErrNotFound, "associate bad event": registry.ErrInvalid,
			"numeric alias refused": registry.ErrInvalid, "associate unqualified": registry.ErrInvalid,
			"associate $LATEST": registry.ErrInvalid,
		}[name]
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	var ce *registry.ConflictError
	if err := s.DeleteVersion("x", "hello", 1); !errors.As(err, &ce) || len(ce.UsedBy) != 1 {
		t.Errorf("conflict detail: %v", err)
	}

	st := must[*registry.State](t)(s.Snapshot())
	r, err := st.Resolve("hello", "live")
	if err != nil || r.Primary.Version != "1" || r.Additional == nil || r.Additional.Version != "2" || r.Weight != 0.25 {
		t.Fatalf("resolve: %+v %v", r, err)
	}
	if st.Associations[0].Behavior != "/img/*" || st.Associations[1].Behavior != "default" {
		t.Fatalf("associations: %+v", st.Associations)
	}

	// Unwind and delete; numbers are never reused.
	for _, err := range []error{
		s.Dissociate("x", "default", "viewer-request"), s.Dissociate("x", "/img/*", "origin-request"),
		s.DeleteAlias("x", "hello", "live"), s.DeleteVersion("x", "hello", 2),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	v3, _, _ := s.Publish("x", "hello", "")
	if v3.Number != 3 {
		t.Fatalf("version number reused: %d", v3.Number)
	}
	audit := must[[]registry.AuditEntry](t)(s.Audit(0, 1000))
	if len(audit) < 12 || audit[0].Who != "alice" || audit[0].Action != "put-code" {
		t.Fatalf("audit: %+v", audit)
	}
	if tail := must[[]registry.AuditEntry](t)(s.Audit(audit[len(audit)-3].Seq, 10)); len(tail) != 2 {
		t.Fatalf("audit after: %d entries", len(tail))
	}

	// Restart: everything is still there, and code verifies.
	s.Close()
	s2 := open(t, dir)
	st2 := must[*registry.State](t)(s2.Snapshot())
	if len(st2.Versions["hello"]) != 2 || st2.Functions["hello"].LastVersion != 3 || st2.Revision != st.Revision+5 {
		t.Fatalf("after restart: %+v rev %d", st2.Functions, st2.Revision)
	}
	src := must[registry.Source](t)(s2.Source(st2.Versions["hello"][1].Code))
	if src.Files["index.js"] != hello {
		t.Fatalf("source: %q", src.Files)
	}
	if err := s2.DeleteFunction("x", "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Source(v1.Code); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("blob of a deleted function still there: %v", err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestLimits(t *testing.T) {
	s, err := registry.Open(registry.Options{Dir: t.TempDir(), Limits: registry.Limits{Viewer: 1000, Origin: 5000, CloudFrontFunctions: 100}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := []byte(hello + "//" + strings.Repeat("x", 2000))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"upload over origin limit", errOf(s.PutCode("x", "f", registry.Upload{Package: make([]byte, 5001)})), registry.ErrTooLarge},
		{"cff upload over its limit", errOf(s.PutCode("x", "c", registry.Upload{Runtime: "cloudfront-functions", Package: big})), registry.ErrTooLarge},
		{"bad runtime", errOf(s.PutCode("x", "f", registry.Upload{Runtime: "python", Package: []byte(hello)})), registry.ErrInvalid},
		{"bad name", errOf(s.PutCode("x", "a/b", registry.Upload{Package: []byte(hello)})), registry.ErrInvalid},
		{"big ok for upload", errOf(s.PutCode("x", "big", registry.Upload{Package: big})), nil},
		{"big published", publishErr(s, "big"), nil},
		{"big ok at origin", errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "origin-request", Function: "big", Qualifier: "1"})), nil},
		{"big refused at viewer", errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "viewer-request", Function: "big", Qualifier: "1"})), registry.ErrTooLarge},
		{"small ok", errOf(s.PutCode("x", "small", registry.Upload{Package: []byte(hello)})), nil},
		{"small published", publishErr(s, "small"), nil},
		{"small aliased", errOf(s.PutAlias("x", "small", "live", registry.AliasSpec{Version: 1})), nil},
		{"small at viewer", errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "viewer-response", Function: "small", Qualifier: "live"})), nil},
		{"growing $LATEST is free: no association runs it", errOf(s.PutCode("x", "small", registry.Upload{Package: big})), nil},
		{"the grown code published", publishErr(s, "small"), nil},
		{"moving the viewer alias onto it", errOf(s.PutAlias("x", "small", "live", registry.AliasSpec{Version: 2})), registry.ErrTooLarge},
		{"cff", errOf(s.PutCode("x", "c", registry.Upload{Runtime: "cloudfront-functions", Package: []byte("function handler(e){return e.request}")})), nil},
		{"cff published", publishErr(s, "c"), nil},
		{"cff at origin", errOf(s.Associate("x", registry.Association{Behavior: "default", Event: "origin-response", Function: "c", Qualifier: "1"})), registry.ErrInvalid},
	}
	for _, c := range cases {
		if (c.want == nil && c.err != nil) || !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	st, _ := s.Snapshot()
	if st.Aliases["small"]["live"].Version != 1 {
		t.Fatal("a refused alias move moved the alias")
	}
}

// publishErr publishes name's $LATEST and returns the error.
func publishErr(s *registry.Store, name string) error {
	_, _, err := s.Publish("x", name, "")
	return err
}

func TestConcurrentWrites(t *testing.T) {
	s := open(t, t.TempDir())
	ch, cancel := s.Subscribe()
	defer cancel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				name := fmt.Sprintf("f%d", i)
				if _, err := s.PutCode("w", name, registry.Upload{Package: fmt.Appendf(nil, "%s // %d", hello, j)}); err != nil {
					t.Error(err)
				}
				if _, _, err := s.Publish("w", name, ""); err != nil {
					t.Error(err)
				}
				_, _ = s.Snapshot()
			}
		})
	}
	wg.Wait()
	select {
	case <-ch:
	default:
		t.Fatal("no change notification")
	}
	st, _ := s.Snapshot()
	if st.Revision != 80 || len(st.Functions) != 8 || len(st.Versions["f3"]) != 5 {
		t.Fatalf("revision %d, %d functions, %d versions", st.Revision, len(st.Functions), len(st.Versions["f3"]))
	}
}

// TestOpenHeldDirectory: a second store on a data directory another one holds is refused, within
// its lock timeout, with an error that says what is wrong.
func TestOpenHeldDirectory(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := registry.Open(registry.Options{Dir: dir, LockTimeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "another process") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second open of %s: %v", dir, err)
	}
}

// TestSingleFileKeepsItsName: a single file uploaded under its own name is stored, published
// and read back under it (so errors and stack traces name it), and code stored before names
// were kept (Entry "index.js", or none) still reads back as index.js.
func TestSingleFileKeepsItsName(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	f := must[registry.Function](t)(s.PutCode("alice", "named", registry.Upload{Package: []byte(hello), Entry: "handler.js"}))
	if f.Latest.Entry != "handler.js" || f.Latest.Format != "js" {
		t.Fatalf("stored code: %+v", f.Latest)
	}
	v := must[registry.Version](t)(func() (registry.Version, error) { v, _, err := s.Publish("alice", "named", ""); return v, err }())
	s.Close()
	s = open(t, dir)
	for _, c := range []struct {
		code registry.Code
		want string
	}{
		{v.Code, "handler.js"},
		{registry.Code{SHA256: v.Code.SHA256, Format: "js", Entry: "index.js"}, "index.js"},
		{registry.Code{SHA256: v.Code.SHA256, Format: "js"}, "index.js"},
	} {
		src := must[registry.Source](t)(s.Source(c.code))
		if src.Entry != c.want || src.Files[c.want] != hello || len(src.Files) != 1 {
			t.Errorf("code %+v: entry %q, %d files; want %q", c.code, src.Entry, len(src.Files), c.want)
		}
	}
	if _, err := s.PutCode("alice", "named", registry.Upload{Package: []byte(hello), Entry: "../x.js"}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("an unsafe name: %v", err)
	}
}
