package jsruntime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// call is one invocation's input.
type call struct {
	ev        *hooks.Event
	lim       hooks.Limits // defaults filled in
	deadline  time.Time
	start     time.Time // when the call began, if known: saves clock reads on the warm path
	requestID string    // context.awsRequestId; read it with id
	wantJSON  bool      // also return JSON.stringify of what the function returned
	source    []byte    // the event file's JSON (verge fn test of a CloudFront function), see cffEventFromSource
}

// id returns context.awsRequestId, made on first use: most invocations neither read it nor
// log anything, and making one was 1% of a hit with a JS function (bench/run.sh js).
func (c *call) id() string {
	if c.requestID == "" {
		c.requestID = newRequestID()
	}
	return c.requestID
}

// logID is the id an invocation's console lines are filed under (Options.LogSink): the
// CloudFront request id its event carries, which the viewer gets as X-Amz-Cf-Id and under which
// the node files the function's failures too, so that a response, its function's console
// lines and its error can be matched; else (an event without one: `verge fn invoke`, tests)
// context.awsRequestId.
func (c *call) logID() string {
	if id := c.ev.Config.RequestID; id != "" {
		return id
	}
	return c.id()
}

// throwSite returns where an error's stack (goja's format: "Error: m\n\tat fn (file:line:col(pc))"
// or "\tat file:line:col(pc)" per frame, "\tat fn (native)" for a built-in) says it was made:
// the first frame in code, its file, line and column without goja's program counter. A
// failure's log line then says where the function threw, as Lambda's log of an error does with
// its stack. "" when the stack has no such frame.
func throwSite(stack string) string {
	for line := range strings.Lines(stack) {
		frame, ok := strings.CutPrefix(strings.TrimSpace(line), "at ")
		if !ok {
			continue
		}
		if i := strings.Index(frame, " ("); i >= 0 && strings.HasSuffix(frame, ")") {
			frame = frame[i+2 : len(frame)-1] // "fn (loc)": loc
		}
		if i := strings.LastIndexByte(frame, '('); i > 0 && strings.HasSuffix(frame, ")") {
			frame = frame[:i] // goja's program counter
		}
		if frame != "" && frame != "native" {
			return frame
		}
	}
	return ""
}

// outcome is one invocation's output. discard means the vm must not be reused.
type outcome struct {
	result  hooks.Result
	output  []byte // JSON of the returned value, when call.wantJSON
	logs    []LogLine
	err     error
	discard bool
}

// settlement records the first of: callback, settled promise, throw (Lambda's rule).
type settlement struct {
	done        bool
	viaCallback bool
	val         goja.Value
	err         error
}

func (s *settlement) settle(val goja.Value, err error, viaCallback bool) {
	if s.done {
		return
	}
	s.done, s.val, s.err, s.viaCallback = true, val, err, viaCallback
}

// invoke runs the handler on c.ev and drives the event loop until the invocation completes,
// the deadline passes (the runtime is interrupted) or ctx is done.
func (v *vm) invoke(ctx context.Context, c *call) (out outcome) {
	v.loop.reset()
	v.logs.reset()
	v.uses++
	// A guard that fired after the previous invocation on this vm had finished (between its
	// last instruction and its leaving the guard) left an interrupt pending, which is not
	// this invocation's failure.
	v.rt.ClearInterrupt()
	if g := v.p.opts.MemoryGuard; g != nil {
		g.enter(v)
		defer g.leave(v)
	}
	if v.p.script != nil {
		v.frozen = time.Now()
		defer func() { v.frozen = time.Time{} }()
	}
	rt := v.rt
	now := c.start
	if now.IsZero() {
		now = time.Now()
	}
	// A vm whose alarm interrupted it may still hold the interrupt, so it is discarded.
	v.alarm.begin(c.deadline, now)
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { rt.Interrupt(ctx.Err()) })
	}
	defer func() {
		if r := recover(); r != nil {
			out.err = hooks.Errorf(hooks.Execution, "jsruntime: the runtime panicked: %v", r)
			out.discard = true
		}
		// A guard that found the deadline passed (guardStringify) counts as the alarm, whose
		// timer may not have run yet.
		if rang := v.alarm.end() || v.curState.overran; rang || !stop() {
			out.discard = true // an interrupt may be pending in the runtime
			if rang && out.err != nil && hooks.KindOf(out.err) != hooks.Timeout {
				// What failed once the deadline had passed (a built-in the deadline stopped
				// by throwing, such as JSON.stringify) failed for lack of time.
				out.err = timeoutError(c)
			}
		}
		out.logs = v.logs.lines
		v.lastUse = now // idle reaping counts minutes: the call's start will do
		v.args = [3]goja.Value{}
		v.le = nil
	}()

	// The invocation's state lives in the vm (one invocation at a time) and is reset here.
	s := &v.state
	*s = settlement{}
	v.curState = current{s: s, deadline: c.deadline}
	v.cur = &v.curState
	v.cf.source = c.source
	evVal, err := v.p.binding().event(v, c.ev)
	if err != nil {
		return v.fail(err, c)
	}
	v.args[0] = evVal
	args := v.args[:1]
	var lctx *lambdaContext
	if v.p.script == nil {
		var ctxObj *goja.Object
		lctx, ctxObj = v.contextObject(c)
		v.args[1] = ctxObj
		args = v.args[:2]
		if v.arity >= 3 {
			v.args[2] = v.hooksFor().callback
			args = v.args[:3]
		}
	}
	ret, err := v.handler(goja.Undefined(), args...)
	if err != nil {
		if isFatal(err) {
			return v.fail(err, c)
		}
		s.settle(nil, err, false)
	} else if thenable, err := v.follow(ret, s); err != nil {
		return v.fail(err, c)
	} else if !thenable && (v.p.script != nil || v.p.asyncElided) {
		// CloudFront Functions return the result directly, as does an async handler
		// compiled without its keyword (elideAsync).
		s.settle(ret, nil, false)
	}

	for {
		if s.done && (!s.viaCallback || v.loop.empty() || lctx == nil || !lctx.waitsForEmptyLoop()) {
			break
		}
		if v.loop.empty() {
			// The event loop drained and nothing settled: Lambda's Node runtime answers null.
			s.settle(goja.Null(), nil, false)
			break
		}
		t := v.loop.next()
		if d := time.Until(t.due); d > 0 {
			if left := time.Until(c.deadline); d > left {
				d = left
			}
			timer := time.NewTimer(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return v.fail(cancelError(ctx, c), c)
			}
			if !time.Now().Before(c.deadline) {
				return v.fail(timeoutError(c), c)
			}
		}
		if err := v.loop.fire(t); err != nil {
			if isFatal(err) {
				return v.fail(err, c)
			}
			// An exception escaping a timer crashes a Node process: report it if nothing else
			// settled, and never reuse this runtime.
			s.settle(nil, err, false)
			out.discard = true
			break
		}
	}
	v.loop.reset()
	if s.err != nil {
		out.err = hooks.Errorf(hooks.Execution, "%s", errorText(s.err))
		return out
	}
	if c.wantJSON {
		out.output = v.toJSON(s.val)
	}
	if goja.IsUndefined(s.val) || goja.IsNull(s.val) || s.val == nil {
		out.err = hooks.Errorf(hooks.Validation, "%s: the function returned no result (%v)", c.ev.Stage, s.val)
		return out
	}
	res, err := v.p.binding().result(v, c.ev, s.val)
	if err != nil {
		if isFatal(err) {
			return v.fail(err, c)
		}
		out.err = err
		return out
	}
	out.result = res
	return out
}

// follow subscribes to a returned promise (or any thenable).
func (v *vm) follow(ret goja.Value, s *settlement) (thenable bool, err error) {
	obj, ok := ret.(*goja.Object)
	if !ok {
		return false, nil
	}
	// Only a promise is exported: Export copies any other object's whole graph into Go values
	// (a CloudFront function's returned request: a quarter of its invocation).
	if p, ok := exportPromise(obj); ok && p.State() != goja.PromiseStatePending {
		// Already settled (an async handler that never awaited): no need to subscribe.
		if p.State() == goja.PromiseStateFulfilled {
			s.settle(p.Result(), nil, false)
		} else {
			s.settle(nil, thrown{p.Result()}, false)
		}
		return true, nil
	}
	then, ok := goja.AssertFunction(obj.Get("then"))
	if !ok {
		return false, nil
	}
	h := v.hooksFor()
	if _, err := then(obj, h.onOK, h.onErr); err != nil && isFatal(err) {
		return true, err
	}
	return true, nil
}

// exportPromise returns obj's promise if obj is one.
func exportPromise(obj *goja.Object) (*goja.Promise, bool) {
	if obj.ClassName() != "Promise" {
		return nil, false
	}
	p, ok := obj.Export().(*goja.Promise)
	return p, ok
}

// settleHooks are the Go functions JS calls to settle an invocation. They are created once
// per vm and act on v.cur, the running invocation.
type settleHooks struct {
	onOK, onErr, callback goja.Value
}

func (v *vm) hooksFor() *settleHooks {
	if v.settle != nil {
		return v.settle
	}
	v.settle = &settleHooks{
		onOK: v.rt.ToValue(func(fc goja.FunctionCall) goja.Value {
			v.cur.s.settle(fc.Argument(0), nil, false)
			return goja.Undefined()
		}),
		onErr: v.rt.ToValue(func(fc goja.FunctionCall) goja.Value {
			v.cur.s.settle(nil, thrown{fc.Argument(0)}, false)
			return goja.Undefined()
		}),
		callback: v.rt.ToValue(func(fc goja.FunctionCall) goja.Value {
			v.cur.callback(fc.Argument(0), fc.Argument(1))
			return goja.Undefined()
		}),
	}
	return v.settle
}

// thrown is a JS value a promise rejected with or a callback reported.
type thrown struct{ v goja.Value }

func (t thrown) Error() string { return describe(t.v) }

func isFatal(err error) bool {
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	return errors.As(err, &ie) || errors.As(err, &so)
}

func cancelError(ctx context.Context, c *call) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timeoutError(c)
	}
	return hooks.Errorf(hooks.Execution, "%s: the invocation was cancelled: %v", c.ev.Stage, ctx.Err())
}

func timeoutError(c *call) error {
	return hooks.Errorf(hooks.Timeout, "%s: the function timed out after %v", c.ev.Stage, c.lim.Timeout)
}

// fail turns a fatal error into an outcome whose vm is discarded.
func (v *vm) fail(err error, c *call) outcome {
	out := outcome{discard: true}
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	var he *hooks.Error
	switch {
	case errors.As(err, &he):
		out.err = err
		out.discard = he.Kind != hooks.Validation
	case errors.As(err, &ie):
		if iv := ie.Value(); iv == errMemory {
			out.err = hooks.Errorf(hooks.Execution, "%s: the function exceeded the memory limit", c.ev.Stage)
		} else if iv == errRegexpTimeout {
			out.err = hooks.Errorf(hooks.Execution, "%s: a regular expression ran longer than its limit of %v", c.ev.Stage, v.p.opts.RegexpTimeout)
		} else if iv == nil || iv == errTimeout || errors.Is(asError(iv), context.DeadlineExceeded) {
			out.err = timeoutError(c)
		} else {
			out.err = hooks.Errorf(hooks.Execution, "%s: the invocation was cancelled: %v", c.ev.Stage, iv)
		}
	case errors.As(err, &so):
		out.err = hooks.Errorf(hooks.Execution, "%s: RangeError: Maximum call stack size exceeded", c.ev.Stage)
	default:
		out.err = hooks.Errorf(hooks.Execution, "%s: %s", c.ev.Stage, errorText(err))
	}
	out.logs = v.logs.lines
	return out
}

func asError(v any) error {
	if e, ok := v.(error); ok {
		return e
	}
	return nil
}

// errorText renders an error the way Lambda reports it: "Name: message" for Error objects,
// the value's string form otherwise.
func errorText(err error) string {
	var t thrown
	if errors.As(err, &t) {
		return describe(t.v)
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return describe(ex.Value())
	}
	return err.Error()
}

func describe(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		name, msg := o.Get("name"), o.Get("message")
		if msg != nil && !goja.IsUndefined(msg) {
			n := "Error"
			if name != nil && !goja.IsUndefined(name) {
				n = name.String()
			}
			text := n + ": " + msg.String()
			if st, ok := o.Get("stack").Export().(string); ok {
				if site := throwSite(st); site != "" {
					text += " (at " + site + ")"
				}
			}
			return text
		}
		if s, err := tryString(o); err == nil {
			return s
		}
		return fmt.Sprintf("%v", o.Export())
	}
	return v.String()
}

func tryString(o *goja.Object) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return o.String(), nil
}
