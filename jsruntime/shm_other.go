//go:build !linux

package jsruntime

import (
	"os"
	"runtime"
)

// yieldProcessor yields to the process's other goroutines only: elsewhere politeYield is
// runtime.Gosched.
func yieldProcessor() { runtime.Gosched() }

// sharedFile returns a file of size bytes that nobody else can open: a temporary file, removed
// at once (Linux uses a memfd).
func sharedFile(size int) (*os.File, error) {
	f, err := os.CreateTemp("", "verge-worker-channel-*")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name())
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
