package jsruntime

import (
	"time"

	"github.com/dop251/goja"
)

// loop is the event loop of one runtime during one invocation: the timers JS scheduled with
// setTimeout/setInterval/setImmediate. Microtasks (promise jobs, queueMicrotask) are run by goja
// at the end of every call into JS. A loop belongs to one vm and is used by one goroutine.
type loop struct {
	rt     *goja.Runtime
	nextID int64
	timers []*timer // small; kept in creation order
}

type timer struct {
	id       int64
	due      time.Time
	fn       goja.Callable
	args     []goja.Value
	interval time.Duration
	repeat   bool
}

// maxTimers bounds pending timers per invocation, so a loop of setTimeout calls cannot grow
// without bound.
const maxTimers = 10000

func (l *loop) jsSet(c goja.FunctionCall) goja.Value {
	fn, ok := goja.AssertFunction(c.Argument(0))
	if !ok {
		panic(l.rt.NewTypeError("The \"callback\" argument must be of type function"))
	}
	if len(l.timers) >= maxTimers {
		panic(l.rt.NewTypeError("too many pending timers"))
	}
	ms := c.Argument(1).ToFloat()
	if !(ms >= 1) || ms > 1<<31-1 {
		ms = 1
	}
	d := time.Duration(ms * float64(time.Millisecond))
	var args []goja.Value
	if a, ok := c.Argument(3).Export().([]any); ok && len(a) > 0 {
		obj := c.Argument(3).ToObject(l.rt)
		for i := range a {
			args = append(args, obj.Get(itoa(i)))
		}
	}
	l.nextID++
	l.timers = append(l.timers, &timer{id: l.nextID, due: time.Now().Add(d), fn: fn, args: args, interval: d, repeat: c.Argument(2).ToBoolean()})
	return l.rt.ToValue(l.nextID)
}

func (l *loop) jsClear(c goja.FunctionCall) goja.Value {
	id := c.Argument(0).ToInteger()
	for i, t := range l.timers {
		if t.id == id {
			l.timers = append(l.timers[:i], l.timers[i+1:]...)
			break
		}
	}
	return goja.Undefined()
}

// next returns the timer due first (the earliest created among equals), or nil.
func (l *loop) next() *timer {
	var best *timer
	for _, t := range l.timers {
		if best == nil || t.due.Before(best.due) {
			best = t
		}
	}
	return best
}

// fire removes t (or reschedules it if it repeats) and calls it.
func (l *loop) fire(t *timer) error {
	if t.repeat {
		t.due = time.Now().Add(t.interval)
	} else {
		for i, x := range l.timers {
			if x == t {
				l.timers = append(l.timers[:i], l.timers[i+1:]...)
				break
			}
		}
	}
	_, err := t.fn(goja.Undefined(), t.args...)
	return err
}

func (l *loop) reset() { clear(l.timers); l.timers = l.timers[:0] }

func (l *loop) empty() bool { return len(l.timers) == 0 }

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// logBuffer collects one invocation's console output up to a byte cap.
type logBuffer struct {
	lines     []LogLine
	bytes     int
	max       int
	truncated bool
}

func (b *logBuffer) add(level, msg string) {
	if b.truncated {
		return
	}
	if b.bytes+len(msg) > b.max {
		b.truncated = true
		b.lines = append(b.lines, LogLine{Level: "WARN", Message: "[verge] log output truncated"})
		return
	}
	b.bytes += len(msg)
	b.lines = append(b.lines, LogLine{Level: level, Message: msg})
}

func (b *logBuffer) reset() { b.lines, b.bytes, b.truncated = nil, 0, false }
