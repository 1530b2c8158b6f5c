package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/jsruntime"
)

// fnNode is an edge node wired as serve wires the lifecycle, with uploaded code in worker
// processes of the verge binary built by TestMain.
type fnNode struct {
	srv *edge.Server
	lc  *lifecycle
}

func startFnNode(t *testing.T, tokens []admin.Token) *fnNode {
	t.Helper()
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	}))
	t.Cleanup(o.Close)
	cfg, err := edge.QuickStart(o.URL, "127.0.0.1:0", "127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if tokens == nil {
		tokens = []admin.Token{}
	}
	lc, err := openLifecycle(cfg, nil, nil, lifecycleOptions{Tokens: tokens, Worker: jsruntime.WorkerOptions{Command: []string{verge, "worker"}}})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := adminGuard(cfg, lc, &fleet{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := edge.New(cfg, edge.Deps{Admin: lc.Handler, AdminGuard: guard})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := lc.Attach(srv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		lc.Close()
	})
	return &fnNode{srv: srv, lc: lc}
}

// fn runs `verge fn ARGS...` in process and returns its output and error.
func fn(args ...string) (string, error) {
	root := &cobra.Command{Use: "verge", SilenceUsage: true, SilenceErrors: true}
	f := &cobra.Command{Use: "fn"}
	f.AddCommand(newFnCmds()...)
	root.AddCommand(f)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(append([]string{"fn"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

const cliHandler = `const tag = require('./lib/tag.js');
exports.handler = async (event) => {
  const r = event.Records[0].cf.response;
  console.log('served', tag);
  r.headers['x-version'] = [{key: 'X-Version', value: tag}];
  return r;
};`

func TestFnVerbs(t *testing.T) {
	n := startFnNode(t, []admin.Token{{Name: "dev", Secret: "tok"}})
	t.Setenv("VERGE_ADMIN", "http://"+n.srv.AdminAddr())
	t.Setenv("VERGE_TOKEN", "tok")
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkg := filepath.Join(dir, "pkg")
	write("pkg/index.js", cliHandler)
	write("pkg/lib/tag.js", `module.exports = 'one';`)
	single := write("single.js", strings.Replace(cliHandler, "require('./lib/tag.js')", "'two'", 1))
	bad := write("bad.js", "exports.handler = async (e) => {\n  return e.;\n};")
	event := write("event.json", `{"Records":[{"cf":{"config":{"eventType":"viewer-response"},
	  "request":{"method":"GET","uri":"/","querystring":"","headers":{},"clientIp":"1.2.3.4"},
	  "response":{"status":"200","statusDescription":"OK","headers":{}}}}]}`)
	xversion := func() string {
		resp, err := http.Get("http://" + n.srv.Addr() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Version")
	}

	steps := []struct {
		args    []string
		want    string // in the output, or in the error when fail
		fail    bool
		xheader string // X-Version expected after the step ("-": do not check)
	}{
		{[]string{"deploy", "hello", "--dir", pkg, "--description", "demo"}, "deployed hello:$LATEST (lambda-edge", false, ""},
		{[]string{"publish", "hello"}, "1\n", false, "-"},
		{[]string{"alias", "hello", "live", "1"}, "hello:live -> 1", false, "-"},
		{[]string{"associate", "default", "viewer-response", "hello:live"}, "default viewer-response -> hello:live", false, "one"},
		{[]string{"deploy", "hello", "--file", single}, "deployed", false, "one"},
		{[]string{"publish", "hello", "--description", "second"}, "2\n", false, "one"},
		{[]string{"alias", "hello", "live", "2"}, "hello:live -> 2", false, "two"},
		{[]string{"alias", "hello", "live", "2", "--weight", "1=0"}, "2 (100%), 1 (0%)", false, "two"},
		{[]string{"alias", "hello", "live", "2", "--weight", "1"}, "--weight", true, "-"},
		{[]string{"list"}, "hello", false, "-"},
		{[]string{"get", "hello"}, "associated:   default viewer-response -> hello:live", false, "-"},
		{[]string{"versions", "hello"}, "second", false, "-"},
		{[]string{"invoke", "hello:1", "--event", event}, `"version": "1"`, false, "-"},
		{[]string{"logs", "hello"}, "served one", false, "-"},
		{[]string{"delete", "hello:2"}, "in use by alias hello:live (409)", true, "-"},
		{[]string{"delete", "hello"}, "(409)", true, "-"},
		{[]string{"deploy", "broken", "--file", bad}, "line 2, column 12", true, "-"},
		{[]string{"get", "nope"}, "not found (404)", true, "-"},
		{[]string{"associate", "default", "viewer-response", "hello:07"}, "qualifier", true, "-"},
		{[]string{"associate", "default", "viewer-response", "hello"}, "publish $LATEST first (verge fn publish hello)", true, "-"},
		{[]string{"associate", "default", "viewer-response", "hello:$LATEST"}, "a published version (hello:3) or an alias (hello:live)", true, "-"},
		{[]string{"list", "--token", "wrong"}, "(401)", true, "-"},
		{[]string{"list", "--admin", "http://127.0.0.1:1"}, "cannot reach the admin API", true, "-"},
		{[]string{"dissociate", "default", "viewer-response"}, "dissociated default viewer-response", false, ""},
		{[]string{"delete", "hello"}, "deleted hello", false, "-"},
	}
	for _, s := range steps {
		out, err := fn(s.args...)
		got := out
		if s.fail {
			if err == nil {
				t.Fatalf("fn %v: succeeded: %s", s.args, out)
			}
			got = err.Error()
			if strings.Contains(got, "\n") {
				t.Errorf("fn %v: the reason is not one line: %q", s.args, got)
			}
		} else if err != nil {
			t.Fatalf("fn %v: %v", s.args, err)
		}
		if !strings.Contains(got, s.want) {
			t.Fatalf("fn %v: %q does not contain %q", s.args, got, s.want)
		}
		if s.xheader != "-" {
			if x := xversion(); x != s.xheader {
				t.Fatalf("after fn %v: X-Version %q, want %q", s.args, x, s.xheader)
			}
		}
	}
}

func TestFnJSON(t *testing.T) {
	n := startFnNode(t, nil)
	admin := "--admin=" + n.srv.AdminAddr() // no scheme: http is assumed
	dir := t.TempDir()
	file := filepath.Join(dir, "h.js")
	os.WriteFile(file, []byte(`exports.handler = async (e) => e.Records[0].cf.request;`), 0o644)
	for _, args := range [][]string{
		{"deploy", "j", "--file", file}, {"publish", "j"}, {"alias", "j", "a", "1"},
		{"associate", "default", "origin-request", "j:1"}, {"list"}, {"get", "j"}, {"versions", "j"},
		{"dissociate", "default", "origin-request"}, {"delete", "j"},
	} {
		out, err := fn(append(args, admin, "--json")...)
		if err != nil {
			t.Fatalf("fn %v: %v", args, err)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("fn %v --json: %v: %q", args, err, out)
		}
	}
	out, _ := fn("get", "nope", admin, "--json")
	if out != "" {
		t.Fatalf("a failure printed %q", out)
	}
}
