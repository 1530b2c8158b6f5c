package jsruntime

import (
	"time"

	"github.com/dop251/goja"
)

// current is the state the context object's methods reach during one invocation.
type current struct {
	s        *settlement
	deadline time.Time
}

// callback implements callback(err, result) and context.done.
func (c *current) callback(err, res goja.Value) {
	if err != nil && !goja.IsUndefined(err) && !goja.IsNull(err) {
		c.s.settle(nil, thrown{err}, true)
		return
	}
	c.s.settle(res, nil, true)
}

// contextObject builds Lambda's context argument for one invocation: an object with the
// per-invocation fields whose prototype (built once per vm) holds the function's constant
// fields and the methods (succeed, fail, done, getRemainingTimeInMillis), which act on v.cur.
func (v *vm) contextObject(cur *current, c *call) *goja.Object {
	if v.ctxProto == nil {
		v.ctxProto = v.newContextProto(c.lim.MemoryMB)
	}
	ctx := v.rt.CreateObject(v.ctxProto)
	_ = ctx.Set("callbackWaitsForEmptyEventLoop", true)
	_ = ctx.Set("awsRequestId", c.requestID)
	return ctx
}

func (v *vm) newContextProto(mem int) *goja.Object {
	rt := v.rt
	o := v.p.opts
	p := rt.NewObject()
	set := func(k string, val any) { _ = p.Set(k, val) }
	set("functionVersion", o.Version)
	set("functionName", "us-east-1."+o.Name)
	set("memoryLimitInMB", itoa(mem))
	set("logGroupName", "/aws/lambda/us-east-1."+o.Name)
	set("logStreamName", time.Now().UTC().Format("2006/01/02")+"/["+o.Version+"]verge")
	set("invokedFunctionArn", "arn:aws:lambda:us-east-1:000000000000:function:us-east-1."+o.Name+":"+o.Version)
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
	return p
}
