package jsruntime

import (
	"slices"
	"time"

	"github.com/dop251/goja"
)

// current is the state the context object's methods reach during one invocation.
type current struct {
	s        *settlement
	deadline time.Time
	overran  bool // a guard found the deadline passed
}

// callback implements callback(err, result) and context.done.
func (c *current) callback(err, res goja.Value) {
	if err != nil && !goja.IsUndefined(err) && !goja.IsNull(err) {
		c.s.settle(nil, thrown{err}, true)
		return
	}
	c.s.settle(res, nil, true)
}

// contextKeys are Lambda's context fields, all own properties as in Lambda's Node.js runtime, in
// the order testdata/golden.js (the Node oracle's stand-in for that runtime) gives them.
var contextKeys = []string{
	"functionName", "functionVersion", "invokedFunctionArn", "memoryLimitInMB", "awsRequestId",
	"logGroupName", "logStreamName", "callbackWaitsForEmptyEventLoop", "getRemainingTimeInMillis",
	"succeed", "fail", "done",
}

// ctxKey is the index of a key in contextKeys.
func ctxKey(k string) int { return slices.Index(contextKeys, k) }

// The context fields that are not the same in every invocation of a vm.
var (
	ctxRequestID = ctxKey("awsRequestId")
	ctxWaits     = ctxKey("callbackWaitsForEmptyEventLoop")
)

// lambdaContext is the context argument of one invocation, a lazy object (lazyProps): the
// fields are the vm's constants (v.ctxConst, built once) except awsRequestId and
// callbackWaitsForEmptyEventLoop. The methods act on v.cur, the running invocation.
type lambdaContext struct {
	lazyProps
	v    *vm
	call *call // for awsRequestId, made when first read
	arr  [12]goja.Value
}

var _ goja.DynamicObject = (*lambdaContext)(nil)

func (c *lambdaContext) build(i int) goja.Value {
	switch i {
	case ctxRequestID:
		return c.v.rt.ToValue(c.call.id())
	case ctxWaits:
		return c.v.rt.ToValue(true)
	}
	return c.v.ctxConst[i]
}

// waitsForEmptyLoop reports callbackWaitsForEmptyEventLoop as the function left it.
func (c *lambdaContext) waitsForEmptyLoop() bool {
	if c.unassigned(ctxWaits) {
		return true
	}
	w := c.Get("callbackWaitsForEmptyEventLoop")
	return w == nil || w.ToBoolean()
}

// contextObject builds Lambda's context argument for one invocation.
func (v *vm) contextObject(c *call) (*lambdaContext, *goja.Object) {
	if v.ctxConst == nil {
		v.ctxConst = v.contextConstants(c.lim.MemoryMB)
	}
	lc := &lambdaContext{v: v, call: c}
	lc.init(lc, contextKeys, lc.arr[:])
	return lc, v.rt.NewDynamicObject(lc)
}

// contextConstants builds the context fields that are the same in every invocation of v.
func (v *vm) contextConstants(mem int) []goja.Value {
	rt := v.rt
	o := v.p.opts
	vals := make([]goja.Value, len(contextKeys))
	set := func(k string, val any) { vals[ctxKey(k)] = rt.ToValue(val) }
	set("functionName", "us-east-1."+o.Name)
	set("functionVersion", o.Version)
	set("invokedFunctionArn", "arn:aws:lambda:us-east-1:000000000000:function:us-east-1."+o.Name+":"+o.Version)
	set("memoryLimitInMB", itoa(mem))
	set("logGroupName", "/aws/lambda/us-east-1."+o.Name)
	set("logStreamName", time.Now().UTC().Format("2006/01/02")+"/["+o.Version+"]verge")
	set("getRemainingTimeInMillis", func(goja.FunctionCall) goja.Value {
		ms := time.Until(v.cur.deadline).Milliseconds()
		if ms < 0 {
			ms = 0
		}
		return rt.ToValue(ms)
	})
	set("succeed", func(fc goja.FunctionCall) goja.Value {
		v.cur.callback(goja.Null(), fc.Argument(0))
		return goja.Undefined()
	})
	set("fail", func(fc goja.FunctionCall) goja.Value {
		e := fc.Argument(0)
		if goja.IsUndefined(e) || goja.IsNull(e) {
			e = rt.ToValue("handled")
		}
		v.cur.callback(e, goja.Undefined())
		return goja.Undefined()
	})
	set("done", func(fc goja.FunctionCall) goja.Value {
		v.cur.callback(fc.Argument(0), fc.Argument(1))
		return goja.Undefined()
	})
	return vals
}
