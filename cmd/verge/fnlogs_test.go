package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/internal/syncbuf"
)

// TestFnLogsShowFailures: a deployed function's thrown error, with the request id the viewer
// got in X-Amz-Cf-Id, shows in `verge fn logs` beside its console output, and the node's own
// log says it once per failed request; `fn logs --follow` fails, saying so, when the node stops.
func TestFnLogsShowFailures(t *testing.T) {
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--origin", pathOrigin(t), "--listen", listen, "--admin", admin, "--data", t.TempDir())
	file := filepath.Join(t.TempDir(), "boom.js")
	src := "exports.handler = async () => { console.log('about to fail'); throw new Error('boom at the edge'); };\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(verge, append(append([]string{"fn"}, args...), "--admin", admin)...).CombinedOutput()
		if err != nil {
			t.Fatalf("fn %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cli("deploy", "boom", "--file", file)
	cli("publish", "boom")
	cli("associate", "default", "viewer-request", "boom:1")

	r, _ := get(t, "http://"+listen+"/x")
	id := r.Header.Get("X-Amz-Cf-Id")
	if r.StatusCode != 503 || id == "" {
		t.Fatalf("status %d, X-Amz-Cf-Id %q: want 503 and the request id", r.StatusCode, id)
	}
	var logs string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if logs = cli("logs", "boom"); strings.Contains(logs, "boom at the edge") {
			break
		}
	}
	var errLine string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "ERROR") && strings.Contains(l, "boom at the edge") {
			errLine = l
		}
	}
	if errLine == "" || !strings.Contains(errLine, id) || !strings.Contains(errLine, "viewer-request") || !strings.Contains(logs, "about to fail") {
		t.Fatalf("fn logs, want the console line and an ERROR line with request id %s and the stage:\n%s", id, logs)
	}
	// A --follow running when the node stops says so and fails, rather than ending as if all
	// was well.
	follow := exec.Command(verge, "fn", "logs", "boom", "--follow", "--admin", admin)
	followOut := &syncbuf.Buffer{}
	follow.Stdout, follow.Stderr = followOut, followOut
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	followed := make(chan error, 1)
	go func() { followed <- follow.Wait() }()
	failures := 1
	poll.Until(t, 10*time.Second, "fn logs --follow following", func() bool {
		r, _ := get(t, "http://"+listen+"/x") // each failure is a new line in the stream
		failures++
		return r.StatusCode == 503 && strings.Contains(followOut.String(), "boom at the edge")
	})
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-followed:
		if err == nil || !strings.Contains(followOut.String(), "the node ended the stream") {
			t.Errorf("fn logs --follow after the node stopped: %v\n%s", err, followOut.String())
		}
	case <-time.After(10 * time.Second):
		follow.Process.Kill()
		t.Fatal("fn logs --follow still running 10 s after the node stopped")
	}
	if n := strings.Count(p.stderr.String(), "boom at the edge"); n != failures {
		t.Errorf("the node logged the failure %d times, want once per failed request (%d):\n%s", n, failures, p.stderr)
	}
}

// TestRestartNeverServesUnfiltered: a node restarted with a blocking function associated runs
// it from its very first answer; no request reaches the origin while its workers start.
func TestRestartNeverServesUnfiltered(t *testing.T) {
	listen, admin, data := freeAddr(t), freeAddr(t), t.TempDir()
	origin := pathOrigin(t)
	args := []string{"serve", "--origin", origin, "--listen", listen, "--admin", admin, "--data", data}
	p := startVerge(t, args...)
	file := filepath.Join(t.TempDir(), "gate.js")
	if err := os.WriteFile(file, []byte("exports.handler = async () => ({status: '403', body: 'blocked'});\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"deploy", "gate", "--file", file}, {"publish", "gate"}, {"associate", "default", "viewer-request", "gate:1"}} {
		if out, err := exec.Command(verge, append(append([]string{"fn"}, args...), "--admin", admin)...).CombinedOutput(); err != nil {
			t.Fatalf("fn %v: %v\n%s", args, err, out)
		}
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	stopped := make(chan struct{})
	var answers, unfiltered atomic.Int64
	go func() { // ask from before the node starts until it has served a while
		defer close(stopped)
		c := &http.Client{Timeout: 10 * time.Second} // a first answer may wait for a worker's start
		for {
			select {
			case <-done:
				return
			default:
			}
			resp, err := c.Get("http://" + listen + "/")
			if err != nil {
				time.Sleep(time.Millisecond)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers.Add(1)
			if strings.HasPrefix(string(body), "origin:") {
				unfiltered.Add(1)
			}
		}
	}()
	p = startVerge(t, args...)
	time.Sleep(300 * time.Millisecond)
	// However long the first answers take on a loaded machine: at least one is needed.
	poll.Until(t, 30*time.Second, "an answer from the restarted node", func() bool { return answers.Load() > 0 })
	close(done)
	<-stopped
	if n := unfiltered.Load(); n != 0 {
		t.Fatalf("%d answers while the node restarted, %d of them from the origin with no function", answers.Load(), n)
	}
	p.stop(t, syscall.SIGTERM)
}
