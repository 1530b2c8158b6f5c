package jsruntime

import (
	"fmt"
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

// sandbox confines the worker process before it parses any of the code it hosts, and returns
// what the kernel allowed, for the node to log. Each layer is applied on its own; one the
// kernel refuses is reported, not fatal:
//   - rlimits: no files written (RLIMIT_FSIZE 0), no core dumps, few descriptors;
//   - seccomp (all threads, SECCOMP_FILTER_FLAG_TSYNC): no execve, fork or new processes
//     (clone without CLONE_THREAD), no sockets, no ptrace or process_vm_*; a refused call
//     fails with EPERM;
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

// seccomp installs the worker's system-call filter on every thread of the process.
func seccomp() error {
	const (
		offNr   = 0
		offArch = 4
		offArg0 = 16 // low 32 bits of args[0] (little-endian)
	)
	deny := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	denied := []uint32{unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_FORK, unix.SYS_VFORK,
		unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_LISTEN,
		unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV,
		unix.SYS_PROCESS_VM_WRITEV, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_CHROOT,
		unix.SYS_PIVOT_ROOT, unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_KEXEC_LOAD, unix.SYS_INIT_MODULE,
		unix.SYS_FINIT_MODULE, unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD}
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch),
		jeq(unix.AUDIT_ARCH_X86_64, 1, 0),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr),
	}
	// Layout after the four instructions above: the denied numbers (each jumping to the deny
	// return), clone3 (ENOSYS, so callers fall back to clone), clone (allowed for threads
	// only), then the deny and allow returns.
	n := len(denied)
	for i, nr := range denied {
		prog = append(prog, jeq(nr, uint8(n-i+4), 0))
	}
	prog = append(prog,
		jeq(unix.SYS_CLONE3, 0, 1),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)),
		jeq(unix.SYS_CLONE, 0, 3),
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArg0),
		unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, K: unix.CLONE_THREAD, Jt: 1},
		stmt(unix.BPF_RET|unix.BPF_K, deny),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
	)
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fp))); e != 0 {
		return e
	}
	return nil
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
