package jsruntime

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// yieldProcessor gives the processor up to other processes (sched_yield), returning at once
// when none waits.
func yieldProcessor() { _, _, _ = syscall.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// sharedFile returns an anonymous memory file of size bytes (memfd), closed on exec: a worker
// gets it only as one of exec's ExtraFiles. It is sealed at that size: a file shrunk under a
// mapping faults the process that touches the lost pages (SIGBUS), and that may be the node.
func sharedFile(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("verge-worker-channel", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "verge-worker-channel")
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
