package jsruntime

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/require"
	"github.com/vergecdn/verge/hooks"
)

// vm is one goja runtime with the function's module loaded: Lambda's "execution environment".
// Its globals survive between invocations, like a warm Lambda. A vm is used by one goroutine
// at a time (the pool hands it out exclusively) and is discarded after any fatal error.
type vm struct {
	p       *program
	rt      *goja.Runtime
	handler goja.Callable
	// handlerVal is the handler as a value, and fnToString the Function.prototype.toString
	// from before user code ran (kept only when newVM is asked to), for elideAsync.
	handlerVal goja.Value
	fnToString goja.Callable
	arity      int // the handler's declared parameter count (callback style when >= 3)
	loop       loop
	logs       logBuffer
	natives    *goja.Object
	require    goja.Value // the module registry's require, which the built-in modules load with
	// stringify is the original JSON.stringify, captured before user code could replace it.
	stringify goja.Callable
	cur       *current     // the running invocation, for the context object's methods
	ctxConst  []goja.Value // the context object's constant fields, built on first use
	frozen    time.Time    // CloudFront Functions' clock during an invocation
	settle    *settleHooks // settlement callbacks, built on first use
	lastUse   time.Time
	uses      int
	// Per-invocation scratch, reused because a vm runs one invocation at a time.
	alarm    alarm         // interrupts the runtime at the invocation's deadline
	state    settlement    // the running invocation's settlement
	curState current       // what cur points to
	args     [3]goja.Value // the handler's arguments
	strs     stringCache   // JS strings of recurring event fields
	le       *leEvent      // the running invocation's Lambda@Edge event, for the decoder
	cf       cffCall       // the running CloudFront function invocation's state (cff_module.go)
	guarded  atomic.Bool   // an invocation runs, under Options.MemoryGuard
}

// errTimeout is the interrupt value of a runtime that ran past its deadline.
var errTimeout = errors.New("timeout")

// newVM creates a runtime, installs the built-ins and runs the function's module (its top-level
// code, bounded by InitTimeout). With source, the runtime keeps what handlerSource needs
// (elideAsync's runtimes): the pool's runtimes never read their handler's source.
func newVM(p *program, source bool) (_ *vm, err error) {
	rt := goja.New()
	v := &vm{p: p, rt: rt}
	v.alarm.rt = rt
	v.loop.rt = rt
	v.logs.max = p.opts.MaxLogBytes
	rt.SetMaxCallStackSize(p.opts.MaxCallDepth)
	if p.script != nil {
		// CloudFront Functions: every Date call returns the invocation's start time.
		rt.SetTimeSource(func() time.Time {
			if v.frozen.IsZero() {
				return time.Now()
			}
			return v.frozen
		})
	}
	builtin := p.reg.Enable(rt)
	v.require = rt.Get("require")
	v.natives = v.newNatives()
	v.stringify, _ = goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	p.natives.Store(rt, v.natives)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jsruntime: init panicked: %v", r)
		}
		if err != nil {
			v.close()
		}
	}()

	var fired atomic.Bool
	t := time.AfterFunc(p.opts.InitTimeout, func() { fired.Store(true); rt.Interrupt(errTimeout) })
	defer t.Stop()
	if err := v.installGlobals(); err != nil {
		return nil, err
	}
	if err := v.installGuards(int64(maxStringLength(p.opts.Limits.MemoryMB))); err != nil {
		return nil, err
	}
	if err := v.guardRegexps(); err != nil {
		return nil, err
	}
	if p.opts.cff() || p.opts.RefuseEval {
		if err := refuseCodeGeneration(rt); err != nil {
			return nil, err
		}
	}
	if source {
		v.captureToString()
	}
	if p.script != nil {
		if err = v.cffRequire(builtin); err == nil {
			err = v.loadScript()
		}
	} else {
		err = v.loadModule(newModules(p, rt, builtin))
	}
	if err != nil {
		if fired.Load() {
			return nil, hooks.Errorf(hooks.Timeout, "jsruntime: init of %s:%s exceeded %v", p.opts.Name, p.opts.Version, p.opts.InitTimeout)
		}
		return nil, err
	}
	v.loop.reset() // timers scheduled at module scope do not run (Lambda freezes them)
	v.logs.reset()
	if g := p.opts.MemoryGuard; g != nil {
		g.add(v)
	}
	return v, nil
}

func (v *vm) installGlobals() error {
	progs, err := programs()
	if err != nil {
		return err
	}
	f, err := v.rt.RunProgram(progs["globals"])
	if err != nil {
		return fmt.Errorf("jsruntime: globals: %w", err)
	}
	fn, _ := goja.AssertFunction(f)
	o := v.p.opts
	mem := o.Limits.MemoryMB
	if mem <= 0 {
		mem = 128
	}
	vars := maps.Clone(o.Env)
	if o.Runtime == RuntimeLambdaEdge {
		if vars == nil {
			vars = map[string]string{}
		}
		maps.Copy(vars, map[string]string{
			"AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "us-east-1." + o.Name,
			"AWS_LAMBDA_FUNCTION_VERSION": o.Version, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(mem),
			"LAMBDA_TASK_ROOT": taskRoot, "TZ": ":UTC", "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
		})
	}
	env := v.rt.NewObject()
	for _, k := range slices.Sorted(maps.Keys(vars)) { // in one order, for every runtime and run
		_ = env.Set(k, vars[k])
	}
	opts := v.rt.NewObject()
	_ = opts.Set("env", env)
	_ = opts.Set("byteStrings", v.p.byteStrings)
	// CloudFront Functions have no timers at AWS: typeof setTimeout is 'undefined' there.
	_ = opts.Set("timers", !o.cff())
	_ = opts.Set("toPrimitive", goja.SymToPrimitive)
	_ = opts.Set("start", time.Now().UnixMilli()) // process.uptime() counts from here
	res, err := fn(goja.Undefined(), v.rt.GlobalObject(), v.natives, v.rt.Get("require"), opts)
	if err != nil {
		return fmt.Errorf("jsruntime: globals: %w", err)
	}
	load, ok := goja.AssertFunction(res)
	if !ok {
		return errors.New("jsruntime: globals: the prelude returned no loader")
	}
	return v.defineLazyGlobals(load)
}

// lazyGlobal is one of Node's globals that a runtime makes on its first read, with globals.js's
// load: most functions use few of them, and whatever a runtime makes in advance is in every
// warm runtime of every function. Each is an accessor of the global object until then, with
// the attributes Node 20 gives it (Node has most of them as accessors too).
type lazyGlobal struct {
	name       string
	enumerable bool
	// stays: the property stays an accessor once made, its getter answering what was made or
	// assigned last (Node's process, Buffer and crypto). Otherwise the getter and the setter
	// put a data property in its place.
	stays bool
}

var lazyGlobals = []lazyGlobal{
	{name: "process", stays: true},
	{name: "Buffer", stays: true},
	// Node 20's crypto has no setter, but a CloudFront function's `var crypto = require('crypto')`
	// assigns the global (a script's top-level var), which must work.
	{name: "crypto", enumerable: true, stays: true},
	{name: "TextEncoder"},
	{name: "TextDecoder"},
	{name: "atob", enumerable: true},
	{name: "btoa", enumerable: true},
	// console, URL and URLSearchParams are data properties in Node, made at its start. Here they
	// too are made on the first read: console is among the larger globals, and many functions
	// never log.
	{name: "console"},
	{name: "URL"},
	{name: "URLSearchParams"},
}

// defineLazyGlobals defines each of lazyGlobals on the global object. The accessors are Go
// functions: a goja function object made from Go is smaller than a JS closure.
func (v *vm) defineLazyGlobals(load goja.Callable) error {
	global := v.rt.GlobalObject()
	for i := range lazyGlobals {
		l := &lazyValue{g: &lazyGlobals[i], rt: v.rt, load: load}
		g := l.g
		get := builtin(v.rt, "get "+g.name, 0, l.get)
		set := builtin(v.rt, "set "+g.name, 1, l.set)
		if err := global.DefineAccessorProperty(g.name, get, set, goja.FLAG_TRUE, goja.ToFlag(g.enumerable)); err != nil {
			return err
		}
	}
	return nil
}

// lazyValue is one lazy global of one runtime: its accessors' state, in one allocation.
type lazyValue struct {
	g    *lazyGlobal
	rt   *goja.Runtime
	load goja.Callable
	val  goja.Value // what was made (once) or, for an accessor that stays, assigned last
	// placed: a data property has taken the accessor's place, which a getter kept by code from
	// before must not overwrite. stuck: the global object refused it (sealed or frozen, which
	// cannot be undone), so reads no longer try.
	placed, stuck bool
}

func (l *lazyValue) replace(x goja.Value) error {
	err := l.rt.GlobalObject().DefineDataProperty(l.g.name, x, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.ToFlag(l.g.enumerable))
	l.placed = l.placed || err == nil
	l.stuck = err != nil
	return err
}

func (l *lazyValue) get(goja.FunctionCall) goja.Value {
	if l.val == nil {
		made, err := l.load(goja.Undefined(), l.rt.ToValue(l.g.name))
		if err != nil {
			panic(err) // thrown into the code that read the name (an interrupt stays one)
		}
		l.val = made
	}
	if !l.g.stays && !l.placed && !l.stuck {
		_ = l.replace(l.val) // a frozen global object keeps the accessor, answering val
	}
	return l.val
}

func (l *lazyValue) set(c goja.FunctionCall) goja.Value {
	x := c.Argument(0)
	if l.g.stays {
		l.val = x
		return goja.Undefined()
	}
	// Node's property is a writable data property, so an assignment through an object that
	// inherits from the global object (or Reflect.set with another receiver) makes the
	// receiver's own property and leaves the global alone.
	if o, ok := c.This.(*goja.Object); ok && o != l.rt.GlobalObject() {
		if err := o.DefineDataProperty(l.g.name, x, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			panic(err)
		}
		return goja.Undefined()
	}
	if l.replace(x) != nil {
		l.val = x // a sealed or frozen global object keeps the accessor, answering x
	}
	return goja.Undefined()
}

// maxStringLength is the longest string the guards let JS build: Node's limit (2^29-24 UTF-16
// units), lowered so a string fits in a quarter of the function's memory.
func maxStringLength(memMB int) int {
	if memMB <= 0 {
		memMB = 128
	}
	n := 1<<29 - 24
	if memMB > 0 && memMB<<20/8 < n {
		n = memMB << 20 / 8
	}
	return n
}

func (v *vm) loadModule(m *modules) error {
	mod, err := m.load("", v.p.entry)
	if err == nil && mod == nil {
		err = errors.New("the file is not in the package")
	}
	if err != nil {
		return fmt.Errorf("jsruntime: loading %s: %w", v.p.entry[len(taskRoot)+1:], err)
	}
	obj, ok := mod.Get("exports").(*goja.Object)
	if !ok {
		return errors.New("jsruntime: the module exports nothing (want exports.handler)")
	}
	h := obj.Get("handler")
	return v.setHandler(h, "exports.handler")
}

// cffModules are the modules a CloudFront function may require, by runtime, as at CloudFront.
var cffModules = map[string][]string{
	RuntimeCloudFrontJS1: {"crypto", "querystring"},
	RuntimeCloudFrontJS2: {"crypto", "querystring", "buffer", "cloudfront"},
}

// cffRequire makes the global require of a CloudFront function's runtime one that loads only
// its runtime's modules and answers any other name as Node does a missing module (the
// registry's own answered goja's "Invalid module", and loaded the Lambda@Edge modules too).
// The prelude keeps the registry's, which the lazy globals load with.
func (v *vm) cffRequire(reg *require.RequireModule) error {
	allowed := cffModules[v.p.opts.Runtime]
	return v.rt.Set("require", builtin(v.rt, "require", 1, func(c goja.FunctionCall) goja.Value {
		name := c.Argument(0).String()
		if !slices.Contains(allowed, name) {
			msg := "Cannot find module '" + name + "'"
			if slices.Contains(cffModules[RuntimeCloudFrontJS2], name) {
				msg += " (it needs runtime cloudfront-js-2.0)"
			}
			panic(newJSError(v.rt, "Error", "MODULE_NOT_FOUND", msg))
		}
		mod, err := reg.Require(name)
		if err != nil {
			panic(v.rt.NewGoError(err))
		}
		return mod
	}))
}

func (v *vm) loadScript() error {
	if _, err := v.rt.RunProgram(v.p.script); err != nil {
		return fmt.Errorf("jsruntime: running the function: %w", err)
	}
	return v.setHandler(v.rt.Get("handler"), "function handler(event)")
}

func (v *vm) setHandler(h goja.Value, want string) error {
	fn, ok := goja.AssertFunction(h)
	if !ok {
		return fmt.Errorf("jsruntime: the function defines no handler (want %s)", want)
	}
	v.handler, v.handlerVal = fn, h
	if n := h.(*goja.Object).Get("length"); n != nil {
		v.arity = int(n.ToInteger())
	}
	return nil
}

// close releases what the vm registered with its program.
func (v *vm) close() {
	if g := v.p.opts.MemoryGuard; g != nil {
		g.remove(v)
	}
	v.p.natives.Delete(v.rt)
	v.alarm.stop()
}

// toJSON serialises a returned value with the JSON.stringify captured before user code ran.
func (v *vm) toJSON(val goja.Value) []byte {
	if val == nil || goja.IsUndefined(val) {
		return []byte("null")
	}
	s, err := v.stringify(goja.Undefined(), val)
	if err != nil || goja.IsUndefined(s) {
		return []byte("null")
	}
	return []byte(s.String())
}
