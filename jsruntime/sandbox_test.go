package jsruntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/vergecdn/verge/hooks"
	"golang.org/x/sys/unix"
)

// procGone reports whether process pid has ended (gone, or a zombie not yet reaped).
func procGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// TestWorkerSandbox: a worker gets none of the node's environment, only Lambda's names and
// what it needs itself; it runs under seccomp (where the kernel has it) with no file writes,
// no core dumps and few descriptors; process.env shows Lambda's names and not the node's;
// and the worker exits when the node closes its pipe.
func TestWorkerSandbox(t *testing.T) {
	t.Setenv("VERGE_ADMIN_TOKENS", "secret")
	f := newProcessFn(t, `exports.handler = async () => ({ status: '200', body: JSON.stringify(process.env) })`)
	r := f.backend.(*remote)
	w := r.h.current()
	pid := strconv.Itoa(w.cmd.Process.Pid)
	t.Logf("sandbox: %s", w.sandbox)

	env, err := os.ReadFile("/proc/" + pid + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for kv := range strings.SplitSeq(string(env), "\x00") {
		if k, _, ok := strings.Cut(kv, "="); ok {
			names[k] = true
		}
	}
	if names["VERGE_ADMIN_TOKENS"] || names["HOME"] {
		t.Errorf("the worker inherited the node's environment: %q", env)
	}
	for _, k := range []string{"AWS_REGION", "LAMBDA_TASK_ROOT", "TZ", "PATH"} {
		if !names[k] {
			t.Errorf("worker environment lacks %s", k)
		}
	}
	res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
	if err != nil {
		t.Fatal(err)
	}
	if body := string(res.Response.Body); strings.Contains(body, "secret") || !strings.Contains(body, "AWS_LAMBDA_FUNCTION_NAME") {
		t.Errorf("process.env: %s", body)
	}

	status, _ := os.ReadFile("/proc/" + pid + "/status")
	if strings.Contains(w.sandbox, "seccomp: on") && !strings.Contains(string(status), "Seccomp:\t2") {
		t.Errorf("seccomp reported on, status says:\n%s", status)
	}
	limits, _ := os.ReadFile("/proc/" + pid + "/limits")
	for _, want := range []string{`Max file size\s+0\s+0`, `Max core file size\s+0\s+0`, `Max open files\s+32\s+32`} {
		if !matches(want, string(limits)) {
			t.Errorf("limits lack %s:\n%s", want, limits)
		}
	}
	fds, _ := os.ReadDir("/proc/" + pid + "/fd")
	if len(fds) > 12 {
		t.Errorf("the worker has %d descriptors open", len(fds))
	}

	_ = w.bell.Close()
	deadline := time.Now().Add(2 * time.Second)
	for !procGone(w.cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not exit on the end of its input")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWorkerGetsNoInheritedDescriptor: a descriptor the node holds without close-on-exec (as
// one inherited from its supervisor would be) does not reach a worker, and the node keeps it.
func TestWorkerGetsNoInheritedDescriptor(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe2(p[:], 0); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	links := map[string]bool{}
	for _, fd := range p {
		l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
		if err != nil {
			t.Fatal(err)
		}
		links[l] = true
	}
	f := newProcessFn(t, `exports.handler = async (e) => e.Records[0].cf.request`)
	pid := strconv.Itoa(f.backend.(*remote).h.current().cmd.Process.Pid)
	fds, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fds {
		if l, _ := os.Readlink("/proc/" + pid + "/fd/" + e.Name()); links[l] {
			t.Errorf("the worker has the node's %s as descriptor %s", l, e.Name())
		}
	}
	if _, err := syscall.Write(p[1], []byte("x")); err != nil {
		t.Errorf("the node lost its own descriptor: %v", err)
	}
}

func matches(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// SandboxProbeEnv, set to a directory holding a file "f", makes the test binary a sandbox
// probe (SandboxProbe) for TestSandboxRefuses.
const SandboxProbeEnv = "VERGE_TEST_SANDBOX_PROBE"

// SandboxProbe applies a worker's sandbox to this process, then tries what code that escaped
// the engine would, on dir and its file "f", and prints one line per try: its name and
// "EPERM", or what happened instead. Its first line is the sandbox's report.
func SandboxProbe(dir string) int {
	fmt.Println(sandbox())
	f := filepath.Join(dir, "f")
	try := func(name string, err error) {
		switch {
		case errors.Is(err, syscall.EPERM):
			fmt.Println(name, "EPERM")
		case err == nil:
			fmt.Println(name, "allowed")
		default:
			fmt.Println(name, strings.ReplaceAll(err.Error(), " ", "_"))
		}
	}
	_, err := os.ReadFile(f)
	try("read", err)
	_, err = os.ReadFile("/proc/" + strconv.Itoa(os.Getppid()) + "/environ")
	try("read-parent-environ", err)
	try("create", os.WriteFile(filepath.Join(dir, "g"), nil, 0o600))
	try("truncate", os.Truncate(f, 0))
	try("unlink", os.Remove(f))
	try("rename", os.Rename(f, filepath.Join(dir, "h")))
	try("chmod", os.Chmod(f, 0o777))
	try("chown", os.Chown(f, 1, 1))
	try("mkdir", os.Mkdir(filepath.Join(dir, "d"), 0o700))
	try("symlink", os.Symlink(f, filepath.Join(dir, "l")))
	try("link", os.Link(f, filepath.Join(dir, "k")))
	try("utimes", os.Chtimes(f, time.Time{}, time.Unix(1, 0)))
	_, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	try("socket", err)
	// The parent: signal 0, reads, and its own affinity set back, so that nothing changes if
	// a call is let through.
	ppid := os.Getppid()
	try("kill-parent", unix.Kill(ppid, 0))
	try("tgkill-parent", unix.Tgkill(ppid, ppid, 0))
	_, err = unix.PidfdOpen(ppid, 0)
	try("pidfd-parent", err)
	var lim unix.Rlimit
	try("prlimit-parent", unix.Prlimit(ppid, unix.RLIMIT_NOFILE, nil, &lim))
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(ppid, &cpus); err == nil {
		try("setaffinity-parent", unix.SchedSetaffinity(ppid, &cpus))
	}
	// A pipe's owner gets its I/O signal, which F_SETSIG would make SIGKILL.
	var pfd [2]int
	if err := unix.Pipe2(pfd[:], unix.O_CLOEXEC); err == nil {
		try("setown-parent", errnoOf(unix.Syscall(unix.SYS_FCNTL, uintptr(pfd[0]), unix.F_SETOWN, uintptr(ppid))))
		try("setsig", errnoOf(unix.Syscall(unix.SYS_FCNTL, uintptr(pfd[0]), unix.F_SETSIG, uintptr(unix.SIGKILL))))
		p := int32(ppid)
		try("ioctl-setown-parent", errnoOf(unix.Syscall(unix.SYS_IOCTL, uintptr(pfd[0]), 0x8901, uintptr(unsafe.Pointer(&p)))))
	}
	_, err = unix.OpenTree(unix.AT_FDCWD, dir, 0)
	try("open_tree", err)
	try("setxattrat", errnoOf(unix.Syscall6(unix.SYS_SETXATTRAT, 0, 0, 0, 0, 0, 0)))
	_, err = unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	try("keyring", err)
	_, err = unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
	try("shmget", err)
	// The filter is an allowlist: a harmless call the worker does not use is refused too.
	_, err = unix.Getcwd(make([]byte, 4096))
	try("getcwd", err)
	// What the Go runtime does to itself still works.
	try("kill-self", unix.Kill(os.Getpid(), 0))
	try("tgkill-self", unix.Tgkill(os.Getpid(), unix.Gettid(), 0))
	try("prlimit-self", unix.Prlimit(0, unix.RLIMIT_NOFILE, nil, &lim))
	try("exec", syscall.Exec("/bin/true", []string{"true"}, nil)) // last: it ends the probe if allowed
	return 0
}

// errnoOf is the error of a raw system call's results.
func errnoOf(_, _ uintptr, e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// TestSandboxRefuses runs the sandbox in a child process and checks that code escaping the
// engine there could neither read nor change a file, nor read its parent's environment, nor
// open a socket or run a program, nor signal, limit or reach its parent (the node) in any
// other way, while it can still signal itself as the Go runtime does; and that the file is
// intact after it tried.
func TestSandboxRefuses(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), SandboxProbeEnv+"="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the probe failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !strings.Contains(lines[0], "seccomp: on") {
		t.Skipf("no seccomp here: %s", lines[0])
	}
	want := map[string]string{"kill-self": "allowed", "tgkill-self": "allowed", "prlimit-self": "allowed"}
	for _, name := range []string{"read", "read-parent-environ", "create", "truncate", "unlink", "rename", "chmod",
		"chown", "mkdir", "symlink", "link", "utimes", "socket", "kill-parent", "tgkill-parent", "pidfd-parent",
		"prlimit-parent", "setaffinity-parent", "setown-parent", "setsig", "ioctl-setown-parent", "open_tree",
		"setxattrat", "keyring", "shmget", "getcwd", "exec"} {
		want[name] = "EPERM"
	}
	got := map[string]string{}
	for _, l := range lines[1:] {
		if name, res, ok := strings.Cut(l, " "); ok {
			got[name] = res
		}
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s under the sandbox: %q, want %s", name, got[name], w)
		}
	}
	if b, err := os.ReadFile(f); err != nil || string(b) != "keep" {
		t.Errorf("the file after the probe: %q, %v", b, err)
	}
	if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the file's mode after the probe: %v, %v", st, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the probe left %d entries in its directory, want the file only", len(ents))
	}
}
