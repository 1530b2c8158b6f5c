package jsruntime

import (
	"slices"

	"github.com/dop251/goja"
)

// lazyGlobalNames are Node's globals a runtime makes on first read: globals.js's load makes
// each. Every object a runtime makes before user code runs is in every warm runtime of every
// function, and most functions use few of these.
var lazyGlobalNames = []string{
	"console", "process", "setTimeout", "setInterval", "setImmediate", "clearTimeout",
	"clearInterval", "clearImmediate", "queueMicrotask", "Buffer", "URL", "URLSearchParams",
	"TextEncoder", "TextDecoder", "crypto", "atob", "btoa",
}

// lazyGlobals is the object between a runtime's global object and Object.prototype (where Node
// has one too): a name the global object lacks is looked up here, and one of lazyGlobalNames
// is then made, defined on the global object as Node has it (writable, configurable, not
// enumerable) and forgotten here, so that the global object answers for it from then on and
// deleting it there deletes it. A single Go object in place of an accessor pair per name: an
// accessor's two function objects cost more than most of the values they make.
type lazyGlobals struct {
	v    *vm
	load goja.Callable // globals.js's load, held from before user code ran
	made []bool        // by index in lazyGlobalNames
	// kept holds what was made for a global object that could not take it (code froze the
	// object first), so each read still gets the same value.
	kept map[int]goja.Value
}

var _ goja.DynamicObject = (*lazyGlobals)(nil)

// installLazyGlobals puts the lazy globals object on the prototype chain of v's global object.
func (v *vm) installLazyGlobals(load goja.Callable) error {
	global := v.rt.GlobalObject()
	o := v.rt.NewDynamicObject(&lazyGlobals{v: v, load: load, made: make([]bool, len(lazyGlobalNames))})
	if err := o.SetPrototype(global.Prototype()); err != nil {
		return err
	}
	return global.SetPrototype(o)
}

// index returns the position of key in lazyGlobalNames if it is still to be made.
func (l *lazyGlobals) index(key string) (int, bool) {
	i := slices.Index(lazyGlobalNames, key)
	return i, i >= 0 && !l.made[i]
}

func (l *lazyGlobals) Get(key string) goja.Value {
	i, ok := l.index(key)
	if !ok {
		return nil
	}
	if val, ok := l.kept[i]; ok {
		return val
	}
	val, err := l.load(goja.Undefined(), l.v.rt.ToValue(key))
	if err != nil {
		panic(err) // thrown into the code that read the name (an interrupt stays one)
	}
	if err := l.v.rt.GlobalObject().DefineDataProperty(key, val, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		if l.kept == nil {
			l.kept = map[int]goja.Value{}
		}
		l.kept[i] = val
		return val
	}
	l.made[i] = true
	return val
}

// Has answers for a name still to be made, so that `name in globalThis` holds and an
// assignment to it defines it on the global object.
func (l *lazyGlobals) Has(key string) bool {
	_, ok := l.index(key)
	return ok
}

// Keys lists nothing: the names are not enumerable.
func (l *lazyGlobals) Keys() []string { return nil }

// Set refuses a property of this object's own: code that means a global sets it on the
// global object, which the lookup above never reaches.
func (l *lazyGlobals) Set(string, goja.Value) bool { return false }

// Delete forgets a name still to be made.
func (l *lazyGlobals) Delete(key string) bool {
	if i, ok := l.index(key); ok {
		l.made[i] = true
	}
	return true
}
