package jsruntime

import (
	"os"

	"golang.org/x/sys/unix"
)

// sharedFile returns an anonymous memory file of size bytes (memfd), closed on exec: a worker
// gets it only as one of exec's ExtraFiles.
func sharedFile(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("verge-worker-channel", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "verge-worker-channel")
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
