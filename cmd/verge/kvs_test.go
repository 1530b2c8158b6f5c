package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKVSThroughTheCLI drives KeyValueStores on a running node with the CLI: a store made
// from an import file, a cloudfront-js-2.0 function deployed with --kvs (in a worker process,
// the default for uploaded code) reading it, and puts and deletes seen by the next request
// without a redeploy. Bad input gets a clear error and changes nothing.
func TestKVSThroughTheCLI(t *testing.T) {
	origin := httpOrigin(t, "page")
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--origin", origin, "--listen", listen, "--admin", admin, "--data", t.TempDir())
	run := func(args ...string) (string, error) {
		t.Helper()
		out, err := exec.Command(verge, append(args, "--admin", "http://"+admin)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("verge %v: %v\n%s", args, err, out)
		}
		return out
	}
	dir := t.TempDir()
	imp := filepath.Join(dir, "site.json")
	code := filepath.Join(dir, "index.js")
	for file, body := range map[string]string{
		imp: `{"data":[{"key":"greeting","value":"hello"},{"key":"cfg","value":"{\"n\":1}"}]}`,
		code: `import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const r = event.response;
  let g;
  try { g = await kvs.get('greeting'); } catch (e) { g = 'none'; }
  const c = await kvs.get('cfg', {format: 'json'});
  r.headers['x-greeting'] = {value: g + '/' + c.n};
  return r;
}`,
	} {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("kvs", "create", "site", "--file", imp)
	must("fn", "deploy", "greet", "--file", code, "--runtime", "cloudfront-js-2.0", "--kvs", "site")
	must("fn", "publish", "greet")
	must("fn", "associate", "default", "viewer-response", "greet:1")
	url := "http://" + listen + "/"
	waitHeader(t, url, "X-Greeting", "hello/1")

	must("kvs", "put", "site", "greeting", "bonjour")
	waitHeader(t, url, "X-Greeting", "bonjour/1")
	if err := os.WriteFile(imp, []byte(`{"data":[{"key":"cfg","value":"{\"n\":2}"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	must("kvs", "import", "site", "--file", imp)
	waitHeader(t, url, "X-Greeting", "bonjour/2")
	must("kvs", "delete", "site", "greeting")
	waitHeader(t, url, "X-Greeting", "none/2")

	if got := must("kvs", "get", "site", "cfg"); got != `{"n":2}` {
		t.Fatalf("kvs get: %q", got)
	}
	if got := must("kvs", "list"); !strings.Contains(got, "site") || !strings.Contains(got, "STORE") {
		t.Fatalf("kvs list: %q", got)
	}
	if got := must("kvs", "list", "site"); got != `cfg  {"n":2}` {
		t.Fatalf("kvs list site: %q", got)
	}
	if got := must("kvs", "describe", "site"); !strings.HasPrefix(got, "site: 1 keys, 10 bytes") {
		t.Fatalf("kvs describe: %q", got)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"kvs", "put", "site", "big", strings.Repeat("x", 1025)}, "over the limit of 1024"},
		{[]string{"kvs", "get", "site", "nope"}, "not found (404)"},
		{[]string{"kvs", "create", "site"}, "already exists (409)"},
		{[]string{"kvs", "describe", "nostore"}, "not found (404)"},
		{[]string{"fn", "deploy", "le", "--file", code, "--kvs", "site"}, "only cloudfront-js-2.0 functions read a KeyValueStore (this one is lambda-edge)"},
		{[]string{"fn", "deploy", "cf", "--file", code, "--runtime", "cloudfront-js-2.0", "--kvs", "nostore"}, "no such KeyValueStore here: create it first (verge kvs create nostore) (400)"},
	} {
		out, err := run(tt.args...)
		if err == nil || !strings.Contains(out, tt.want) {
			t.Errorf("verge %v: err %v, output %q; want %q", tt.args[:3], err, out, tt.want)
		}
	}
	if got := must("kvs", "get", "site", "cfg"); got != `{"n":2}` {
		t.Fatalf("a refused change changed the store: %q", got)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

// TestCorpusThroughANode serves two functions of the CloudFront Functions corpus on a node, each
// with the corpus's store imported, and changes the stores mid-test: a redirect added to the
// table, and the JWT key rotated, take effect on the next request without a redeploy.
func TestCorpusThroughANode(t *testing.T) {
	origin := httpOrigin(t, "page")
	listen, admin := freeAddr(t), freeAddr(t)
	startVerge(t, "serve", "--origin", origin, "--listen", listen, "--admin", admin, "--data", t.TempDir())
	must := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(verge, append(args, "--admin", "http://"+admin)...).CombinedOutput(); err != nil {
			t.Fatalf("verge %v: %v\n%s", args, err, out)
		}
	}
	corpus := filepath.Join("..", "..", "jsruntime", "testdata", "corpus")
	redirects, jwt := filepath.Join(corpus, "cff2-redirect-table-kvs-hit"), filepath.Join(corpus, "cff2-jwt-kvs-valid")
	must("kvs", "create", "redirects", "--file", filepath.Join(redirects, "kvs.json"))
	must("kvs", "create", "keys", "--file", filepath.Join(jwt, "kvs.json"))
	must("fn", "deploy", "redirects", "--file", filepath.Join(redirects, "index.js"), "--runtime", "cloudfront-js-2.0", "--kvs", "redirects")
	must("fn", "deploy", "jwt", "--file", filepath.Join(jwt, "index.js"), "--runtime", "cloudfront-js-2.0", "--kvs", "keys")
	must("fn", "publish", "redirects")
	must("fn", "publish", "jwt")
	must("fn", "associate", "default", "viewer-request", "redirects:1")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func(path, cookie string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+listen+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	waitStatus := func(path, cookie string, want int, wantLoc string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, loc := status(path, cookie)
			if code == want && loc == wantLoc {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %q, want %d %q", path, code, loc, want, wantLoc)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitStatus("/old-blog", "", http.StatusMovedPermanently, "https://blog.example.com/")
	waitStatus("/about", "", http.StatusOK, "")
	must("kvs", "put", "redirects", "/about", `{"to":"/team","permanent":false}`)
	waitStatus("/about", "", http.StatusFound, "/team")

	var ev struct {
		Request struct {
			Cookies map[string]struct{ Value string } `json:"cookies"`
		} `json:"request"`
	}
	readJSONFile(t, filepath.Join(jwt, "event.json"), &ev)
	token := "token=" + ev.Request.Cookies["token"].Value
	must("fn", "associate", "default", "viewer-request", "jwt:1")
	waitStatus("/x", token, http.StatusOK, "")
	must("kvs", "put", "keys", "jwt-secret", "rotated")
	waitStatus("/x", token, http.StatusUnauthorized, "")
}
