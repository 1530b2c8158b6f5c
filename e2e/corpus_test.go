package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// The corpus cases of jsruntime/testdata/corpus have goldens from Node.js (jsruntime's
// TestCorpus compares them). Here each runs through a real node, which checks the two joints
// that test cannot see:
//   - HTTP in → event: the event the edge builds holds the case's request as sent over HTTP
//     (method, uri, querystring, headers, body), so the function computes what Node computed;
//   - result → HTTP out: what the function returned is what the origin (a rewritten request)
//     or the viewer (a generated or rewritten response) gets, or the documented error status.

type caseMeta struct {
	Runtime string `json:"runtime"`
	Expect  string `json:"expect"` // ok, error, validation, timeout
}

// recorder wraps the real function and keeps the last event and result, for the checks.
type recorder struct {
	fn       hooks.Function
	switchTo string // host:port that origin switches are redirected to (no traffic leaves the box)
	mu       sync.Mutex
	ev       *hooks.Event
	res      hooks.Result
	err      error
}

func (r *recorder) Invoke(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
	res, err := r.fn.Invoke(ctx, ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev, r.res, r.err = cloneEvent(ev), res, err
	if err == nil && res.Request != nil && res.Request.Origin != nil && !reflect.DeepEqual(res.Request.Origin, ev.Request.Origin) {
		// The function switched origin, perhaps to a real domain: send it to the local one.
		host, port, _ := strings.Cut(r.switchTo, ":")
		p, _ := strconv.Atoi(port)
		res.Request = res.Request.Clone()
		res.Request.Origin = &hooks.Origin{Custom: &hooks.CustomOrigin{DomainName: host, Port: p, Protocol: "http", Path: originPath(res.Request.Origin)}}
	}
	return res, err
}

// originPath is the base path of a custom or S3 origin.
func originPath(o *hooks.Origin) string {
	if o.Custom != nil {
		return o.Custom.Path
	}
	return o.S3.Path
}

func cloneEvent(ev *hooks.Event) *hooks.Event {
	c := *ev
	c.Request = ev.Request.Clone()
	c.Response = ev.Response.Clone()
	return &c
}

// seen is what a test origin received.
type seen struct {
	mu     sync.Mutex
	method string
	path   string
	query  string
	header http.Header
	body   []byte
	n      int
}

func (s *seen) record(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.method, s.path, s.query, s.header, s.body = r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b
	s.n++
}

func TestCorpusThroughTheProxy(t *testing.T) {
	dirs, err := filepath.Glob("../jsruntime/testdata/corpus/*")
	if err != nil || len(dirs) < 25 {
		t.Fatalf("corpus: %d cases (%v)", len(dirs), err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runCase(t, dir) })
	}
}

func runCase(t *testing.T, dir string) {
	var meta caseMeta
	readJSON(t, filepath.Join(dir, "meta.json"), &meta)
	raw, err := os.ReadFile(filepath.Join(dir, "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := jsruntime.ParseEvent(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	req := ev.Request

	// Origins: the configured one answers like the case's response (if it has one), the
	// second stands for any origin a function switches to.
	var main, other seen
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		main.record(r)
		status := 200
		if ev.Response != nil {
			for _, h := range ev.Response.Headers {
				if !skipOnOrigin(h.Name) {
					w.Header().Add(h.Name, h.Value)
				}
			}
			status = ev.Response.Status
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		io.WriteString(w, "origin body")
	}))
	defer origin.Close()
	switched := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.record(r)
		io.WriteString(w, "switched origin body")
	}))
	defer switched.Close()

	var store *jsruntime.KeyValueStore // kvs.json: the case's KeyValueStore
	if _, err := os.Stat(filepath.Join(dir, "kvs.json")); err == nil {
		if store, err = jsruntime.LoadKeyValueStore(filepath.Join(dir, "kvs.json")); err != nil {
			t.Fatal(err)
		}
	}
	fn, err := jsruntime.New(jsruntime.Options{Name: filepath.Base(dir), Runtime: meta.Runtime, Code: corpusCode(t, dir), KVS: store})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Close()
	rec := &recorder{fn: fn, switchTo: strings.TrimPrefix(switched.URL, "http://")}
	dialect := hooks.DialectOf(meta.Runtime)
	// The cases were recorded behind policies that forward the whole request, as this one does.
	// Origin "api" is the switched one too, for CloudFront functions that select it by id.
	cfg, err := edge.ParseConfig("e2e.yaml", []byte("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\norigins: [{id: o, url: "+origin.URL+"}, {id: api, url: "+switched.URL+"}]\n"+
		"behaviors: [{path: \"*\", origin: o, cache: {query_strings: all}, origin_request: {headers: all, cookies: all}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := edge.New(cfg, edge.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	var at [4]*edge.Attachment
	at[ev.Stage] = &edge.Attachment{Name: "case", Version: "1", Dialect: dialect, Function: rec, IncludeBody: req.Body != nil}
	srv.SetAttachments(edge.Attachments{"*": at})

	// The viewer's request, as the event describes it.
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body.Data)
	}
	hreq, err := http.NewRequest(req.Method, "http://"+srv.Addr()+req.URI+queryPart(req.QueryString), body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range req.Headers {
		switch strings.ToLower(h.Name) {
		case "host":
			hreq.Host = h.Value
		case "content-length", "via", "x-forwarded-for":
		default:
			hreq.Header.Add(h.Name, h.Value)
		}
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "") // no Go default: the event had none
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	rec.mu.Lock()
	seenEv, res, ferr := rec.ev, rec.res, rec.err
	rec.mu.Unlock()
	if seenEv == nil {
		t.Fatalf("the function never ran (status %d, X-Cache %q)", resp.StatusCode, resp.Header.Get("X-Cache"))
	}

	// HTTP in → event: the request the function saw is the case's request.
	checkEventRequest(t, req, seenEv.Request)

	// Result → HTTP out.
	switch meta.Expect {
	case "error", "timeout":
		if resp.StatusCode != 503 || ferr == nil {
			t.Fatalf("expected an execution failure: status %d, function error %v", resp.StatusCode, ferr)
		}
		return
	case "validation":
		if resp.StatusCode != 502 || !strings.Contains(resp.Header.Get("X-Cache"), "ValidationError") {
			t.Fatalf("expected a validation failure: status %d X-Cache %q (function error %v)", resp.StatusCode, resp.Header.Get("X-Cache"), ferr)
		}
		return
	}
	if ferr != nil {
		t.Fatalf("function failed: %v", ferr)
	}
	switch {
	case res.Response != nil && ev.Stage.IsRequest():
		if resp.StatusCode != res.Response.Status || string(got) != string(res.Response.Body) {
			t.Errorf("generated response: got %d %q, function returned %d %q", resp.StatusCode, got, res.Response.Status, res.Response.Body)
		}
		checkHeaders(t, "viewer", resp.Header, res.Response.Headers)
	case res.Request != nil:
		s := &main
		if res.Request.Origin != nil && !reflect.DeepEqual(res.Request.Origin, seenEv.Request.Origin) ||
			res.Request.OriginChoice != nil && slices.Equal(res.Request.OriginChoice.IDs, []string{"api"}) {
			s = &other
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.n != 1 {
			t.Fatalf("the origin got %d requests", s.n)
		}
		wantPath := res.Request.URI
		if s == &other && res.Request.Origin != nil {
			wantPath = originPath(res.Request.Origin) + wantPath
		}
		if s.path != wantPath || s.query != res.Request.QueryString {
			t.Errorf("origin got %s?%s, function returned %s?%s", s.path, s.query, wantPath, res.Request.QueryString)
		}
		checkHeaders(t, "origin", s.header, res.Request.Headers)
		if b := res.Request.Body; b != nil && b.Replace && !bytes.Equal(s.body, b.Data) {
			t.Errorf("origin got body %q, function replaced it with %q", s.body, b.Data)
		}
	case res.Response != nil:
		if resp.StatusCode != res.Response.Status {
			t.Errorf("viewer got %d, function returned %d", resp.StatusCode, res.Response.Status)
		}
		checkHeaders(t, "viewer", resp.Header, res.Response.Headers)
		if res.Response.BodySet && string(got) != string(res.Response.Body) {
			t.Errorf("viewer got body %q, function set %q", got, res.Response.Body)
		}
	}
}

// checkEventRequest compares the event's request with what the edge built from HTTP.
func checkEventRequest(t *testing.T, want, got *hooks.Request) {
	t.Helper()
	if got.Method != want.Method || got.URI != want.URI || got.QueryString != want.QueryString {
		t.Errorf("event request %s %s?%s, the case has %s %s?%s", got.Method, got.URI, got.QueryString, want.Method, want.URI, want.QueryString)
	}
	for _, h := range want.Headers {
		switch strings.ToLower(h.Name) {
		case "host", "content-length", "via", "x-forwarded-for", "cookie":
			continue // rewritten by design at origin stages, or joined by the server
		}
		if vs := got.Headers.Values(h.Name); !contains(vs, h.Value) {
			t.Errorf("event header %s = %q, the case has %q", h.Name, vs, h.Value)
		}
	}
	if (want.Body == nil) != (got.Body == nil) || want.Body != nil && !bytes.Equal(want.Body.Data, got.Body.Data) {
		t.Errorf("event body differs from the case's")
	}
}

// checkHeaders checks that every header the function returned reached its recipient.
func checkHeaders(t *testing.T, who string, got http.Header, want hooks.Headers) {
	t.Helper()
	for _, h := range want {
		if skipOnOrigin(h.Name) || strings.EqualFold(h.Name, "Host") || strings.EqualFold(h.Name, "Cookie") {
			continue
		}
		if vs := got.Values(h.Name); !contains(vs, h.Value) {
			t.Errorf("%s got %s = %q; the function returned %q", who, h.Name, vs, h.Value)
		}
	}
}

// skipOnOrigin: headers the transport owns (framing, hop-by-hop) or that CDNs rewrite.
func skipOnOrigin(name string) bool {
	switch strings.ToLower(name) {
	case "content-length", "transfer-encoding", "connection", "date", "via", "x-forwarded-for", "age":
		return true
	}
	return false
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func queryPart(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// corpusCode reads a case's function package: every .js and .json file but the case's own.
func corpusCode(t *testing.T, dir string) jsruntime.Code {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch rel {
		case "event.json", "expected.json", "meta.json":
			return nil
		}
		if ext := filepath.Ext(p); ext == ".js" || ext == ".json" {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return jsruntime.Code{Files: files, Entry: "index.js"}
}

func readJSON(t *testing.T, path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
