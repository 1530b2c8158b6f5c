package jsruntime

import "errors"

// ErrWorkerStart marks, for errors.Is, a failure to start a worker process (the binary
// cannot run, the system is out of processes or memory, the worker does not answer its
// init): the node's failure, not the code's. Every other error of New with Process
// isolation comes from loading the code, so a caller checking an upload tells a bad upload
// from a broken node by it.
var ErrWorkerStart = errors.New("jsruntime: cannot start a worker process")

// startError is a worker start's failure: its message is the cause's, and it is
// ErrWorkerStart.
type startError struct{ err error }

func (e *startError) Error() string        { return e.err.Error() }
func (e *startError) Unwrap() error        { return e.err }
func (e *startError) Is(target error) bool { return target == ErrWorkerStart }
