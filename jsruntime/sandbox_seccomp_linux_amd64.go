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
	denied := []uint32{unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_FORK, unix.SYS_VFORK,
		unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_LISTEN,
		unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV,
		unix.SYS_PROCESS_VM_WRITEV, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_CHROOT,
		unix.SYS_PIVOT_ROOT, unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_KEXEC_LOAD, unix.SYS_INIT_MODULE,
		unix.SYS_FINIT_MODULE, unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
		// io_uring's operations (socket, connect, openat) are not system calls seccomp sees.
		unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
		// No file is opened once the sandbox is on (the worker's code and data come through
		// its channel), so none is: not the node's secrets, its configuration or store, nor
		// another process's /proc files (environ, mem). Where Landlock is missing, this is
		// the only layer that keeps the file system from code that escaped the engine.
		unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_CREAT, unix.SYS_OPEN_BY_HANDLE_AT,
		unix.SYS_OPEN_TREE, unix.SYS_OPEN_TREE_ATTR, unix.SYS_USELIB,
		// Nor is one changed by its path, or through a descriptor the worker holds.
		unix.SYS_TRUNCATE, unix.SYS_FTRUNCATE, unix.SYS_UNLINK, unix.SYS_UNLINKAT, unix.SYS_RENAME,
		unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2, unix.SYS_MKDIR, unix.SYS_MKDIRAT, unix.SYS_RMDIR,
		unix.SYS_LINK, unix.SYS_LINKAT, unix.SYS_SYMLINK, unix.SYS_SYMLINKAT, unix.SYS_MKNOD,
		unix.SYS_MKNODAT, unix.SYS_CHMOD, unix.SYS_FCHMOD, unix.SYS_FCHMODAT, unix.SYS_FCHMODAT2,
		unix.SYS_CHOWN, unix.SYS_FCHOWN, unix.SYS_LCHOWN, unix.SYS_FCHOWNAT, unix.SYS_UTIME,
		unix.SYS_UTIMES, unix.SYS_UTIMENSAT, unix.SYS_FUTIMESAT, unix.SYS_SETXATTR,
		unix.SYS_LSETXATTR, unix.SYS_FSETXATTR, unix.SYS_SETXATTRAT, unix.SYS_REMOVEXATTR,
		unix.SYS_LREMOVEXATTR, unix.SYS_FREMOVEXATTR, unix.SYS_REMOVEXATTRAT, unix.SYS_FILE_SETATTR,
		// Nothing that reaches another process: the node and the other workers run as the
		// same user, so without this a worker could kill the node, take its descriptors
		// (pidfd_getfd: its listening sockets), or slow it (priorities, CPU affinity).
		unix.SYS_TKILL, unix.SYS_PIDFD_OPEN, unix.SYS_PIDFD_SEND_SIGNAL, unix.SYS_PIDFD_GETFD,
		unix.SYS_PROCESS_MADVISE, unix.SYS_PROCESS_MRELEASE, unix.SYS_KCMP, unix.SYS_SETPRIORITY,
		unix.SYS_IOPRIO_SET, unix.SYS_SCHED_SETAFFINITY, unix.SYS_SCHED_SETSCHEDULER,
		unix.SYS_SCHED_SETPARAM, unix.SYS_SCHED_SETATTR, unix.SYS_MIGRATE_PAGES, unix.SYS_MOVE_PAGES,
		// Nor what the user's other processes share by name rather than by descriptor: kernel
		// keyrings, System V and POSIX IPC, watches on files.
		unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY, unix.SYS_SHMGET, unix.SYS_SHMAT,
		unix.SYS_SHMCTL, unix.SYS_MSGGET, unix.SYS_MSGSND, unix.SYS_MSGRCV, unix.SYS_MSGCTL,
		unix.SYS_SEMGET, unix.SYS_SEMOP, unix.SYS_SEMTIMEDOP, unix.SYS_SEMCTL, unix.SYS_MQ_OPEN,
		unix.SYS_MQ_UNLINK, unix.SYS_INOTIFY_ADD_WATCH, unix.SYS_FANOTIFY_INIT, unix.SYS_FANOTIFY_MARK}
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
	for _, nr := range denied {
		prog = append(prog, jeq(nr, "deny", ""))
	}
	for _, nr := range selfOnly {
		prog = append(prog, jeq(nr, "self", ""))
	}
	prog = append(prog,
		jeq(unix.SYS_FCNTL, "fcntl", ""),
		jeq(unix.SYS_IOCTL, "ioctl", ""),
		jeq(unix.SYS_PRLIMIT64, "self or 0", ""),
		jeq(unix.SYS_CLONE3, "enosys", ""), // callers fall back to clone
		jeq(unix.SYS_CLONE, "clone", ""),
		ret(unix.SECCOMP_RET_ALLOW),
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
