package jsruntime_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/internal/proctest"
	"github.com/vergecdn/verge/jsruntime"
)

// nodeEnv makes the test binary act as a node that starts one worker and waits to be killed.
const nodeEnv = "VERGE_TEST_ACT_AS_NODE"

func actAsNode() int {
	f, err := jsruntime.New(jsruntime.Options{Code: jsruntime.SingleFile(`exports.handler = async () => { for (;;) {} }`),
		Isolation: jsruntime.Process, Limits: hooks.Limits{Timeout: 30 * time.Second},
		Worker: jsruntime.WorkerOptions{Command: []string{os.Args[0]}, Env: []string{jsruntime.WorkerEnv + "=1"}}})
	if err != nil {
		return 1
	}
	defer f.Close()
	go f.Invoke(context.Background(), &hooks.Event{Stage: hooks.ViewerRequest, Request: &hooks.Request{Method: "GET", URI: "/"}})
	time.Sleep(100 * time.Millisecond) // the worker is now busy, deaf to its pipe
	os.Stdout.WriteString("ready\n")
	time.Sleep(time.Minute)
	return 0
}

// TestWorkerDiesWithNode: a node killed with SIGKILL (no chance to stop its workers) takes
// its worker with it within a second, instead of leaving an orphan running the code, even a
// worker busy in a loop that would not notice the end of its pipe for 30 s.
func TestWorkerDiesWithNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	node := exec.Command(os.Args[0])
	node.Env = append(os.Environ(), nodeEnv+"=1")
	out, err := node.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = node.Process.Kill(); _ = node.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("node: %q %v", line, err)
	}
	workers := proctest.Children(node.Process.Pid)
	if len(workers) != 1 {
		t.Fatalf("node has %d children", len(workers))
	}
	_ = node.Process.Signal(syscall.SIGKILL)
	_ = node.Wait()
	deadline := time.Now().Add(time.Second)
	for proctest.Alive(workers[0]) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(workers[0], syscall.SIGKILL)
			t.Fatal("the worker outlived its node by more than a second")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
