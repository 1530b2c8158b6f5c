package jsruntime

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// x32SyscallBit marks the system call numbers of the x32 ABI.
const x32SyscallBit = 0x40000000

// The ioctl requests that set a descriptor's owner or switch on its SIGIO, which x/sys does
// not name: see fcntl below.
const (
	ioctlFIOSETOWN = 0x8901
	ioctlFIOASYNC  = 0x5452
)

// seccomp installs the worker's system-call filter on every thread of the process.
func seccomp() error {
	const (
		offNr   = 0
		offArch = 4
		offArg0 = 16 // low 32 bits of args[0] (little-endian): a pid_t, as the kernel reads it
		offArg1 = 24 // low 32 bits of args[1]: fcntl's command, ioctl's request
	)
	// Only what a worker uses once its sandbox is on is allowed: the Go runtime (and glibc's
	// threads, in a cgo-enabled build) managing memory, threads, signals to itself, timers and
	// polling; reads and writes on the descriptors it holds; the rest of its sandbox
	// (Landlock, more filters). Every other call fails with EPERM, new kernel calls included.
	// Among them, by design:
	//   - every way to open a file, or to change one by its path or a descriptor: the
	//     worker's code and data come through its channel, so it needs none, and where
	//     Landlock is missing this is what keeps the node's configuration, store and secrets
	//     (its /proc/<pid>/environ holds the admin tokens) from code that escaped the engine;
	//   - sockets, new processes and programs (execve, fork, clone without CLONE_THREAD),
	//     ptrace, process_vm_*, mounts and namespaces, bpf, io_uring (whose operations
	//     seccomp does not see);
	//   - everything that reaches another process: the node and the other workers run as the
	//     same user, so a worker could otherwise kill the node (tkill, pidfd_send_signal),
	//     take its descriptors (pidfd_getfd: its listening sockets) or slow it (priorities,
	//     affinity), and what processes share by name (keyrings, System V and POSIX IPC,
	//     file watches).
	allowed := []uint32{
		unix.SYS_READ, unix.SYS_WRITE, unix.SYS_READV, unix.SYS_WRITEV, unix.SYS_PREAD64,
		unix.SYS_PWRITE64, unix.SYS_CLOSE, unix.SYS_FSTAT, unix.SYS_LSEEK, unix.SYS_DUP3,
		unix.SYS_PIPE2, unix.SYS_EVENTFD2, unix.SYS_POLL, unix.SYS_PPOLL, unix.SYS_EPOLL_CREATE1,
		unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2,
		unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_MREMAP, unix.SYS_MADVISE,
		unix.SYS_MINCORE, unix.SYS_BRK, unix.SYS_FUTEX, unix.SYS_FUTEX_WAITV, unix.SYS_SCHED_YIELD,
		unix.SYS_SCHED_GETAFFINITY, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP,
		unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES, unix.SYS_GETTIMEOFDAY, unix.SYS_TIMER_CREATE,
		unix.SYS_TIMER_SETTIME, unix.SYS_TIMER_GETTIME, unix.SYS_TIMER_DELETE, unix.SYS_SETITIMER,
		unix.SYS_GETITIMER, unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGRETURN,
		unix.SYS_SIGALTSTACK, unix.SYS_RESTART_SYSCALL, unix.SYS_GETPID, unix.SYS_GETPPID,
		unix.SYS_GETTID, unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID,
		unix.SYS_GETRANDOM, unix.SYS_UNAME, unix.SYS_GETRLIMIT, unix.SYS_GETRUSAGE, unix.SYS_SYSINFO,
		unix.SYS_ARCH_PRCTL, unix.SYS_PRCTL, unix.SYS_SET_TID_ADDRESS, unix.SYS_SET_ROBUST_LIST,
		unix.SYS_RSEQ, unix.SYS_MEMBARRIER, unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_SECCOMP,
		unix.SYS_LANDLOCK_CREATE_RULESET, unix.SYS_LANDLOCK_ADD_RULE, unix.SYS_LANDLOCK_RESTRICT_SELF}
	// The signals the Go runtime sends go to its own process (kill, tgkill): those are allowed
	// only with this process's id. prlimit64 also takes 0 for this process. A descriptor's
	// owner gets its I/O signal, which F_SETSIG can make SIGKILL: fcntl and ioctl may not set
	// an owner, a signal or O_ASYNC's ioctl (the Go runtime uses none of them).
	selfOnly := []uint32{unix.SYS_KILL, unix.SYS_TGKILL, unix.SYS_RT_SIGQUEUEINFO, unix.SYS_RT_TGSIGQUEUEINFO}
	self := uint32(os.Getpid())

	ld := func(off uint32) bpfInsn {
		return bpfInsn{f: unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}}
	}
	ret := func(k uint32) bpfInsn { return bpfInsn{f: unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}} }
	jeq := func(k uint32, jt, jf string) bpfInsn {
		return bpfInsn{f: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k}, jt: jt, jf: jf}
	}
	label := func(name string) bpfInsn { return bpfInsn{label: name} }

	prog := []bpfInsn{
		ld(offArch), jeq(unix.AUDIT_ARCH_X86_64, "", "kill"),
		ld(offNr),
		// The x32 ABI's numbers carry bit 30 under the same architecture: refuse them all,
		// or x32's execve and socket would pass.
		{f: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: x32SyscallBit}, jt: "deny"},
	}
	for _, nr := range allowed {
		prog = append(prog, jeq(nr, "allow", ""))
	}
	for _, nr := range selfOnly {
		prog = append(prog, jeq(nr, "self", ""))
	}
	prog = append(prog,
		jeq(unix.SYS_FCNTL, "fcntl", ""),
		jeq(unix.SYS_IOCTL, "ioctl", ""),
		jeq(unix.SYS_PRLIMIT64, "self or 0", ""),
		jeq(unix.SYS_CLONE3, "enosys", ""), // callers fall back to clone
		jeq(unix.SYS_CLONE, "clone", "deny"),
		label("clone"), ld(offArg0), // threads only: no new process
		bpfInsn{f: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, K: unix.CLONE_THREAD}, jt: "allow", jf: "deny"},
		label("fcntl"), ld(offArg1),
		jeq(unix.F_SETOWN, "deny", ""), jeq(unix.F_SETOWN_EX, "deny", ""), jeq(unix.F_SETSIG, "deny", "allow"),
		label("ioctl"), ld(offArg1),
		jeq(ioctlFIOSETOWN, "deny", ""), jeq(unix.SIOCSPGRP, "deny", ""), jeq(ioctlFIOASYNC, "deny", "allow"),
		label("self or 0"), ld(offArg0), jeq(0, "allow", "self?"),
		label("self"), ld(offArg0),
		label("self?"), jeq(self, "allow", "deny"),
		label("enosys"), ret(unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)),
		label("deny"), ret(unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)),
		label("kill"), ret(unix.SECCOMP_RET_KILL_PROCESS),
		label("allow"), ret(unix.SECCOMP_RET_ALLOW),
	)
	filter, err := assembleBPF(prog)
	if err != nil {
		return err
	}
	fp := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fp)))
	switch {
	case e != 0:
		return e
	case r != 0: // with TSYNC: the thread that could not take the filter, which then is nowhere
		return fmt.Errorf("thread %d could not take the filter", r)
	}
	return nil
}

// bpfInsn is one classic BPF instruction whose jumps name their targets (labels), or, with
// label set, the mark of a target: assembleBPF turns them into offsets, so that a filter can
// grow without anyone counting instructions.
type bpfInsn struct {
	label  string
	f      unix.SockFilter
	jt, jf string // "" falls through to the next instruction
}

// assembleBPF resolves prog's labels into jump offsets. A label that is missing, given twice,
// behind its jump or out of a jump's reach (255 instructions) is an error.
func assembleBPF(prog []bpfInsn) ([]unix.SockFilter, error) {
	at := map[string]int{}
	n := 0
	for _, in := range prog {
		if in.label == "" {
			n++
			continue
		}
		if _, dup := at[in.label]; dup {
			return nil, fmt.Errorf("seccomp filter: label %q twice", in.label)
		}
		at[in.label] = n
	}
	out := make([]unix.SockFilter, 0, n)
	for _, in := range prog {
		if in.label != "" {
			continue
		}
		f := in.f
		for _, j := range []struct {
			to  string
			off *uint8
		}{{in.jt, &f.Jt}, {in.jf, &f.Jf}} {
			if j.to == "" {
				continue
			}
			dst, ok := at[j.to]
			d := dst - len(out) - 1
			if !ok || d < 0 || d > 255 {
				return nil, fmt.Errorf("seccomp filter: no jump from instruction %d to %q", len(out), j.to)
			}
			*j.off = uint8(d)
		}
		out = append(out, f)
	}
	return out, nil
}
