//go:build linux && !amd64

package jsruntime

import "errors"

// seccomp's filter is written for x86-64 system call numbers; elsewhere the worker runs with
// its rlimits and, where the kernel allows, Landlock.
func seccomp() error { return errors.New("the filter is written for x86-64 only") }
