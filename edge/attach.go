package edge

import (
	"context"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// Attachment is a function attached to a behavior's event type at run time (through the admin
// API) rather than by configuration. It takes the place of the configuration's association for
// that event type.
type Attachment struct {
	Name, Version string // for logs and metrics
	Dialect       hooks.Dialect
	Function      hooks.Function
	IncludeBody   bool
	Timeout       time.Duration // 0: the stage's default
}

// Attachments maps a behavior, named by its path pattern ("*" or "default" for the default
// behavior), to its attachments by hooks.Stage. A nil entry keeps the configuration's
// association. The map must not be changed after it is passed to SetAttachments.
type Attachments map[string][4]*Attachment

// SetAttachments makes a as a whole the run-time associations: new requests see all of it at
// once, requests in flight finish with the functions they started with. It survives Reload.
// Names of behaviors the configuration lacks are ignored (see Behaviors).
func (s *Server) SetAttachments(a Attachments) {
	s.reload.Lock()
	defer s.reload.Unlock()
	s.attached = a
	s.pipe.Store(s.base.withAttachments(a))
}

// Behaviors lists the behaviors' path patterns, in matching order.
func (s *Server) Behaviors() []string {
	bs := s.pipe.Load().behaviors
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.id
	}
	return ids
}

// withAttachments returns a pipeline that shares p's origins and overrides its bindings with
// a. p itself is left as it is: it stays the base that the next SetAttachments starts from.
func (p *pipeline) withAttachments(a Attachments) *pipeline {
	if len(a) == 0 {
		return p
	}
	d := *p
	d.behaviors = make([]*behavior, len(p.behaviors))
	for i, b := range p.behaviors {
		at, ok := a[b.id]
		if !ok && b.id == "*" {
			at, ok = a["default"]
		}
		if !ok {
			d.behaviors[i] = b
			continue
		}
		nb := *b
		for stage, x := range at {
			if x == nil {
				continue
			}
			nb.fns[stage] = bind(&binding{name: x.Name, version: x.Version, dialect: x.Dialect, fn: x.Function,
				includeBody: x.IncludeBody}, hooks.Stage(stage), x.Timeout)
		}
		d.behaviors[i] = &nb
	}
	return &d
}

// Unrunnable returns the function of a behavior whose attached function cannot run on this
// node (its code has not arrived, or does not build): every call fails with an execution
// error carrying reason, so the viewer gets CloudFront's answer to a function that is invalid
// (503, LambdaExecutionError or FunctionExecutionError by the Attachment's Dialect) and the
// request never reaches the origin unfiltered. reason goes to the node's log, not to the
// viewer. An authentication function must fail closed.
func Unrunnable(reason error) hooks.Function {
	return unrunnable{err: &hooks.Error{Kind: hooks.Execution, Err: reason}}
}

type unrunnable struct{ err error }

var _ hooks.SelfTimed = unrunnable{}

func (u unrunnable) Invoke(context.Context, *hooks.Event) (hooks.Result, error) {
	return hooks.Result{}, u.err
}

// StopsAtDeadline: it returns at once.
func (unrunnable) StopsAtDeadline() {}
