//go:build !linux

package jsruntime

import "syscall"

func workerSysProcAttr() *syscall.SysProcAttr { return nil }

// keepDescriptorsFromWorkers is Linux-only, as the sandbox is.
func keepDescriptorsFromWorkers() error { return nil }

// sandbox is Linux-only; elsewhere a worker runs with its memory limits only.
func sandbox() string { return "sandbox: not supported on this system" }
