package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify runs the node as packaging/systemd/verge.service does (Type=notify): it says
// READY=1 once it serves, RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 when it
// drains. `verge health` answers for it meanwhile.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	next := func(want string) {
		t.Helper()
		buf := make([]byte, 256)
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := conn.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("notify: %q, %v; want %q", buf[:n], err, want)
		}
	}
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--origin", pathOrigin(t), "--listen", listen, "--admin", admin, "--data", t.TempDir())
	next("READY=1")
	if out, err := exec.Command(verge, "health", "--admin", admin).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("verge health: %q, %v", out, err)
	}
	if out, err := exec.Command(verge, "health", "--ready", "--json", "--admin", admin).CombinedOutput(); err != nil ||
		strings.TrimSpace(string(out)) != `{"status":"ok","check":"/readyz"}` {
		t.Errorf("verge health --ready --json: %q, %v", out, err)
	}
	if out, err := exec.Command(verge, "health", "--admin", freeAddr(t)).CombinedOutput(); err == nil {
		t.Errorf("verge health against nothing succeeded: %q", out)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	next("READY=1")
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
	next("STOPPING=1")
}

// TestSystemdUnitVerifies checks the unit file with systemd's own verifier, where the machine
// has it.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit, err := os.ReadFile("../../packaging/systemd/verge.service")
	if err != nil {
		t.Fatal(err)
	}
	// The verifier wants ExecStart's binary to exist: point it at the one under test.
	file := filepath.Join(t.TempDir(), "verge.service")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/verge", verge)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", file).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
