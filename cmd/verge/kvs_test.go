package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
	must("fn", "associate", "default", "viewer-response", "greet")
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
		{[]string{"fn", "deploy", "le", "--file", code, "--kvs", "site"}, "for runtime cloudfront-js-2.0 only"},
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
