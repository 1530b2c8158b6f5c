package hooks

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Function runs one hook. Implementations must be safe for concurrent use, must return promptly
// when ctx is done, and must not retain ev or anything it points to after returning.
//
// A request stage (viewer-request, origin-request) returns either Result.Request (continue with
// this request) or Result.Response (answer the viewer with it). A response stage returns
// Result.Response. A failure is reported as an *Error (see Kind); any other error counts as an
// execution error.
type Function interface {
	Invoke(ctx context.Context, ev *Event) (Result, error)
}

// SelfTimed is implemented by a Function that stops itself at the deadline of the context it is
// given (jsruntime interrupts its runtime then), without waiting for the context's Done. Its
// caller may give it a context from WithDeadline, which arms no timer, instead of one from
// context.WithTimeout: a timer and a cancel context per call were about 6% of the node's CPU
// on cache hits with one function (a profile of bench/run.sh js).
type SelfTimed interface {
	Function
	StopsAtDeadline()
}

// WithDeadline returns a context carrying deadline d but no timer: its Done is parent's, so it
// reports nothing when d passes. Give it only to SelfTimed functions.
func WithDeadline(parent context.Context, d time.Time) context.Context {
	return &deadlineCtx{Context: parent, d: d}
}

type deadlineCtx struct {
	context.Context
	d time.Time
}

func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if pd, ok := c.Context.Deadline(); ok && pd.Before(c.d) {
		return pd, true
	}
	return c.d, true
}

// Result is what a function returns.
type Result struct {
	Request  *Request
	Response *Response
}

// GoFunc adapts an ordinary Go function to Function.
type GoFunc func(ctx context.Context, ev *Event) (Result, error)

// Invoke calls f.
func (f GoFunc) Invoke(ctx context.Context, ev *Event) (Result, error) { return f(ctx, ev) }

var _ Function = GoFunc(nil)

// GoRegistry holds Go functions by name, so configuration can attach them. It is safe for
// concurrent use. There is no process-wide registry: the binary builds one and passes it on.
type GoRegistry struct {
	mu sync.RWMutex
	m  map[string]Function
}

// NewGoRegistry returns an empty registry.
func NewGoRegistry() *GoRegistry { return &GoRegistry{m: map[string]Function{}} }

// Register adds f under name. A name can be registered once.
func (r *GoRegistry) Register(name string, f Function) error {
	if name == "" || f == nil {
		return fmt.Errorf("hooks: register: empty name or nil function")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		return fmt.Errorf("hooks: register: Go function %q already registered", name)
	}
	r.m[name] = f
	return nil
}

// Lookup returns the function registered under name.
func (r *GoRegistry) Lookup(name string) (Function, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.m[name]
	return f, ok
}

// Names returns the registered names, sorted.
func (r *GoRegistry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
