package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/syncbuf"
)

// verge is the binary under test, built once in TestMain.
var verge string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "verge-cmd-test")
	if err != nil {
		panic(err)
	}
	verge = filepath.Join(dir, "verge")
	if out, err := exec.Command("go", "build", "-o", verge, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building verge: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port that was free a moment ago, for a verge
// process to listen on. The port is below the kernel's range of ephemeral ports: one from that
// range (a listener on port 0) could be taken, between this check and verge's bind, as the
// local port of any connection or port-0 listener on the machine, as one was in CI ("bind:
// address already in use"). Below it only a fixed bind can take it, and this process hands
// each port out once.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 1000 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", nextPort()))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// ports hands out the ports below the ephemeral range in turn, from a random start.
var ports struct {
	once   sync.Once
	lo, n  int
	handed atomic.Int64
}

func nextPort() int {
	ports.once.Do(func() {
		ports.lo, ports.n = 10000, 22768 // below Linux's default ephemeral range, 32768-60999
		if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
			var low int
			if _, err := fmt.Sscan(string(b), &low); err == nil && low > ports.lo+1000 {
				ports.n = low - ports.lo
			}
		}
		ports.handed.Store(rand.Int64N(int64(ports.n)))
	})
	return ports.lo + int(ports.handed.Add(1)%int64(ports.n))
}

// proc is a running `verge serve`.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	exited chan struct{} // closed when the process has been waited for; err is then set
	err    error
}

// startVerge runs verge with args and waits until it says it is serving.
func startVerge(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(verge, args...)
	cmd.Dir = t.TempDir()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "verge: serving on") {
				close(ready)
			}
		}
	}()
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill() // a process already waited for answers an error, ignored
		<-p.exited
	})
	select {
	case <-ready:
	case <-p.exited:
		t.Fatalf("verge %v exited before serving: %v\n%s", args, p.err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("verge %v did not start\n%s", args, p.stderr)
	}
	return p
}

// stop sends sig and waits for the exit.
func (p *proc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(30 * time.Second):
		t.Fatal("verge did not exit")
		return nil
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServeEmbeddedDefault(t *testing.T) {
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--listen", listen, "--admin", admin)
	base := "http://" + listen

	first, body := get(t, base+"/")
	second, _ := get(t, base+"/")
	if first.Header.Get("X-Cache") != "Miss from verge" || second.Header.Get("X-Cache") != "Hit from verge" || second.Header.Get("Age") == "" {
		t.Fatalf("X-Cache %q then %q, Age %q", first.Header.Get("X-Cache"), second.Header.Get("X-Cache"), second.Header.Get("Age"))
	}
	if !strings.Contains(body, "demo origin") || second.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("the demo page or its security headers are missing: %v", second.Header)
	}
	for _, asset := range []string{"/static/site.css", "/static/logo.svg"} {
		miss, _ := get(t, base+asset)
		hit, _ := get(t, base+asset)
		stamp := miss.Header.Get("X-Asset-Processed")
		if hit.Header.Get("X-Cache") != "Hit from verge" || stamp == "" || hit.Header.Get("X-Asset-Processed") != stamp {
			t.Errorf("%s: X-Cache %q, the origin-response function's stamp %q then %q (a hit reuses it)",
				asset, hit.Header.Get("X-Cache"), stamp, hit.Header.Get("X-Asset-Processed"))
		}
	}
	get(t, base+"/api/time")
	if r, _ := get(t, base+"/api/time"); r.Header.Get("X-Cache") != "Miss from verge" {
		t.Errorf("/api/time was cached")
	}
	if r, _ := get(t, base+"/old/page?x=1"); r.StatusCode != 301 || r.Header.Get("Location") != "/page?x=1" ||
		r.Header.Get("X-Cache") != "LambdaGeneratedResponse from verge" {
		t.Errorf("/old/page: %d Location %q X-Cache %q", r.StatusCode, r.Header.Get("Location"), r.Header.Get("X-Cache"))
	}
	if r, _ := get(t, "http://"+admin+"/readyz"); r.StatusCode != 200 {
		t.Errorf("/readyz = %d", r.StatusCode)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, p.stderr)
	}
}

func TestServeQuickStart(t *testing.T) {
	origin := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=30")
		fmt.Fprintf(w, "origin says %s", r.URL.Path)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go origin.Serve(ln)
	defer origin.Close()

	listen, admin := freeAddr(t), freeAddr(t)
	data := t.TempDir()
	p := startVerge(t, "serve", "--origin", "http://"+ln.Addr().String(), "--listen", listen, "--admin", admin, "--data", data)
	get(t, "http://"+listen+"/x")
	r, body := get(t, "http://"+listen+"/x")
	if r.Header.Get("X-Cache") != "Hit from verge" || body != "origin says /x" {
		t.Fatalf("%q %q", r.Header.Get("X-Cache"), body)
	}
	_, metrics := get(t, "http://"+admin+"/metrics")
	if !strings.Contains(metrics, `verge_http_requests_total{cache="hit",status="200"} 1`) {
		t.Errorf("metrics lack the hit")
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

func TestServeConfigErrorsAndReload(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "edge.yaml")
	bad := "origins:\n  - id: a\n    url: http://127.0.0.1:9\nbehaviors:\n  - path: \"*\"\n    origin: nope\n"
	os.WriteFile(cfgPath, []byte(bad), 0o644)
	out, err := exec.Command(verge, "serve", "--config", cfgPath).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "edge.yaml:6: behaviors[0].origin: unknown origin \"nope\"") {
		t.Fatalf("bad config: err %v, output:\n%s", err, out)
	}

	a := httpOrigin(t, "from a")
	b := httpOrigin(t, "from b")
	listen, admin := freeAddr(t), freeAddr(t)
	write := func(originURL string, extra string) {
		cfg := fmt.Sprintf("listen: %s\nadmin: %s\norigins: [{id: o, url: %s}]\nbehaviors: [{path: \"*\"}]\n%s", listen, admin, originURL, extra)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "")
	p := startVerge(t, "serve", "--config", cfgPath)
	waitBody(t, "http://"+listen+"/", "from a")

	write(b, "unknown_field: 1\n") // a broken file: the old configuration keeps running
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, "reload failed")
	waitBody(t, "http://"+listen+"/", "from a")

	write(b, "")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitBody(t, "http://"+listen+"/", "from b")
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

func httpOrigin(t *testing.T, body string) string {
	return httpOriginFunc(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })
}

// httpOriginFunc starts an HTTP origin on 127.0.0.1 serving h and returns its URL.
func httpOriginFunc(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func waitBody(t *testing.T, url, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, body := get(t, url)
		if body == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: body %q, want %q", url, body, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitLog(t *testing.T, p *proc, substr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(p.stderr.String(), substr) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("log never said %q:\n%s", substr, p.stderr)
}

// TestFunctionLifecycleThroughTheCLI drives a running node with the CLI verbs, as a developer
// deploying a function would.
func TestFunctionLifecycleThroughTheCLI(t *testing.T) {
	origin := httpOrigin(t, "page")
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--origin", origin, "--listen", listen, "--admin", admin, "--data", t.TempDir())
	fn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(verge, append(args, "--admin", "http://"+admin)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("verge %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	dir := t.TempDir()
	code := filepath.Join(dir, "index.js")
	write := func(value string) {
		src := `exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  response.headers['x-version'] = [{key: 'X-Version', value: '` + value + `'}];
  return response;
};`
		if err := os.WriteFile(code, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	fn("fn", "deploy", "hdr", "--file", code)
	if v := fn("fn", "publish", "hdr"); v != "1" {
		t.Fatalf("publish printed %q, want 1", v)
	}
	fn("fn", "alias", "hdr", "live", "1")
	fn("fn", "associate", "default", "viewer-response", "hdr:live")
	waitHeader(t, "http://"+listen+"/", "X-Version", "one")

	write("two")
	fn("fn", "deploy", "hdr", "--file", code)
	waitHeader(t, "http://"+listen+"/", "X-Version", "one") // $LATEST changed; live did not
	fn("fn", "publish", "hdr")
	fn("fn", "alias", "hdr", "live", "2")
	waitHeader(t, "http://"+listen+"/", "X-Version", "two")

	fn("fn", "dissociate", "default", "viewer-response")
	waitHeader(t, "http://"+listen+"/", "X-Version", "")
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

func waitHeader(t *testing.T, url, name, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := get(t, url)
		got := r.Header.Get(name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s = %q, want %q", url, name, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAdminSecurity(t *testing.T) {
	origin := httpOrigin(t, "page")
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	out, err := exec.Command(verge, "serve", "--origin", origin, "--listen", freeAddr(t), "--admin", "0.0.0.0:"+port, "--data", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "token") {
		t.Fatalf("a non-loopback admin address without a token must be refused: err %v\n%s", err, out)
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "edge.yaml")
	listen, admin := freeAddr(t), freeAddr(t)
	os.WriteFile(cfg, []byte(fmt.Sprintf("listen: %s\nadmin: %s\ndata: %s\nadmin_tokens: [ci=s3cret]\norigins: [{id: o, url: %s}]\nbehaviors: [{path: \"*\"}]\n",
		listen, admin, filepath.Join(dir, "data"), origin)), 0o644)
	p := startVerge(t, "serve", "--config", cfg)
	list := func(token string) error {
		return exec.Command(verge, "fn", "list", "--admin", "http://"+admin, "--token", token).Run()
	}
	if err := list("wrong"); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	if err := list("s3cret"); err != nil {
		t.Fatalf("the configured token was refused: %v", err)
	}
	p.stop(t, syscall.SIGTERM)
}

// TestFleetThroughTheBinary runs two nodes as an operator would: a function published on A is
// live on B, `cluster members` lists both, and a purge on A empties B's cache too.
func TestFleetThroughTheBinary(t *testing.T) {
	origin := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		io.WriteString(w, "page")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go origin.Serve(ln)
	defer origin.Close()
	originURL := "http://" + ln.Addr().String()

	type node struct{ listen, admin, gossip string }
	a := node{freeAddr(t), freeAddr(t), freeAddr(t)}
	b := node{freeAddr(t), freeAddr(t), freeAddr(t)}
	pa := startVerge(t, "serve", "--origin", originURL, "--listen", a.listen, "--admin", a.admin, "--data", t.TempDir(), "--gossip", a.gossip)
	pb := startVerge(t, "serve", "--origin", originURL, "--listen", b.listen, "--admin", b.admin, "--data", t.TempDir(), "--gossip", b.gossip, "--join", a.gossip)
	cli := func(admin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(verge, append(args, "--admin", "http://"+admin)...).CombinedOutput()
		if err != nil {
			t.Fatalf("verge %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	code := filepath.Join(t.TempDir(), "index.js")
	os.WriteFile(code, []byte(`exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-fleet'] = [{key: 'X-Fleet', value: 'yes'}]; return r; };`), 0o644)
	cli(a.admin, "fn", "deploy", "hdr", "--file", code)
	cli(a.admin, "fn", "publish", "hdr")
	cli(a.admin, "fn", "associate", "default", "viewer-response", "hdr:1")
	waitHeader(t, "http://"+b.listen+"/x", "X-Fleet", "yes")

	deadline := time.Now().Add(10 * time.Second)
	for {
		out := cli(a.admin, "cluster", "members")
		if strings.Count(out, "alive") >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster members:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	get(t, "http://"+b.listen+"/x")
	if r, _ := get(t, "http://"+b.listen+"/x"); r.Header.Get("X-Cache") != "Hit from verge" {
		t.Fatalf("B did not cache /x: %q", r.Header.Get("X-Cache"))
	}
	cli(a.admin, "cache", "purge", "/x")
	deadline = time.Now().Add(10 * time.Second)
	for {
		r, _ := get(t, "http://"+b.listen+"/x")
		if r.Header.Get("X-Cache") == "Miss from verge" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a purge on A never reached B")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pb.stop(t, syscall.SIGTERM)
	pa.stop(t, syscall.SIGTERM)
}
