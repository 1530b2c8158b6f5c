package jsruntime

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// workerSysProcAttr makes a worker die with its node: the kernel sends it SIGKILL when the
// thread that started it exits. Go ends an OS thread only when a goroutine locked to it
// returns without unlocking, and startWorker is never called from such a goroutine, so in
// practice the signal comes when the node process dies. Its own process group keeps a
// terminal's signals for the node, which stops its workers itself.
func workerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// keepDescriptorsFromWorkers marks every descriptor of this process close-on-exec, so that a
// worker gets only the ones startWorker hands it (its doorbells, stderr and channel memory).
// Go opens all its own descriptors so; one the node inherited without the flag (a supervisor's
// log pipe, a socket a shell left open) would otherwise pass to every worker, where the
// sandbox does not stop hostile code from writing to it. Run before each start, it also
// covers a descriptor made since the last one.
func keepDescriptorsFromWorkers() error {
	if unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC) == nil {
		return nil
	}
	// Kernels before 5.11 lack the flag: set it one descriptor at a time.
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC) // the directory's own descriptor is gone by now
		}
	}
	return nil
}

// sandbox confines the worker process before it parses any of the code it hosts, and returns
// what the kernel allowed, for the node to log. Each layer is applied on its own; one the
// kernel refuses is reported, not fatal:
//   - rlimits: no files written (RLIMIT_FSIZE 0), no core dumps, few descriptors;
//   - seccomp (all threads, SECCOMP_FILTER_FLAG_TSYNC): an allowlist of what the worker uses
//     once sandboxed, so no execve, fork or new processes (clone without CLONE_THREAD), no
//     sockets, no ptrace or process_vm_*, no file opened, and none created, removed, renamed
//     or changed, no signal or limit for another process, nor any other call that reaches
//     one; a refused call fails with EPERM;
//   - Landlock, when the kernel can apply it to every thread (ABI 8, TSYNC): no file system
//     access, no TCP bind or connect.
//
// RLIMIT_NPROC is not used: it counts threads, which the Go runtime must be able to start.
func sandbox() string {
	var out []string
	lims := []struct {
		name string
		res  int
		val  uint64
	}{{"fsize", unix.RLIMIT_FSIZE, 0}, {"core", unix.RLIMIT_CORE, 0}, {"nofile", unix.RLIMIT_NOFILE, 32}}
	for _, l := range lims {
		if err := unix.Setrlimit(l.res, &unix.Rlimit{Cur: l.val, Max: l.val}); err != nil {
			out = append(out, fmt.Sprintf("rlimit %s: %v", l.name, err))
		} else {
			out = append(out, fmt.Sprintf("rlimit %s=%d", l.name, l.val))
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		out = append(out, "no_new_privs: "+err.Error())
	}
	if err := seccomp(); err != nil {
		out = append(out, "seccomp: "+err.Error())
	} else {
		out = append(out, "seccomp: on")
	}
	out = append(out, landlock())
	return strings.Join(out, "; ")
}

// landlock applies a Landlock ruleset that grants nothing, if the kernel can apply it to every
// thread of the process at once (a ruleset restricts only the calling thread otherwise, and
// the Go runtime's other threads would run goroutines unrestricted).
func landlock() string {
	abi, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return "landlock: unavailable (" + e.Error() + ")"
	}
	if abi < 8 {
		return fmt.Sprintf("landlock: ABI %d cannot restrict all threads (needs 8); not applied", abi)
	}
	// Every file system right up to ABI 5 and both TCP rights, granted to no path or port.
	attr := unix.LandlockRulesetAttr{Handled_access_fs: 1<<16 - 1,
		Handled_access_net: unix.LANDLOCK_ACCESS_NET_BIND_TCP | unix.LANDLOCK_ACCESS_NET_CONNECT_TCP}
	size := unsafe.Offsetof(attr.Scoped)
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if e != 0 {
		return fmt.Sprintf("landlock ABI %d: create: %v", abi, e)
	}
	defer unix.Close(int(fd))
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, unix.LANDLOCK_RESTRICT_SELF_TSYNC, 0); e != 0 {
		return fmt.Sprintf("landlock ABI %d: restrict: %v", abi, e)
	}
	return fmt.Sprintf("landlock ABI %d: on", abi)
}
