package jsruntime

import (
	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// lazyHeaders is an event's headers object, in Lambda@Edge's shape ({name: [{key, value}]}) or
// CloudFront Functions' ({name: {value, multiValue?}}), backed by a copy of the header lines.
// A name's value is built only when JS reads it, so a function that touches two headers pays
// for two; decoding the result copies untouched names straight from the lines. It behaves as an
// ordinary object to JS (keys in first-appearance order, then added names; reads, writes,
// deletes, enumeration, JSON.stringify).
//
// It holds no reference to the event's slices, only to its strings, which are immutable. It is
// used only on its vm's goroutine.
type lazyHeaders struct {
	rt    *goja.Runtime
	lines []hooks.Header
	// touched are the names JS read (their arrays), assigned or deleted, in the order they
	// were first touched; a few per invocation, so a slice beats a map.
	touched []touchedName
	extra   []string     // names added by JS (or re-added after a delete), in order
	lnames  []string     // lower-case names of lines, made by Keys on first use
	js      *goja.Object // the JS object presenting it, once made
}

type touchedName struct {
	key     string
	val     goja.Value // nil when deleted
	deleted bool
}

var (
	_ goja.DynamicObject = (*lazyHeaders)(nil)
	_ goja.DynamicObject = (*lazyCFFHeaders)(nil)
)

// newLazyHeaders copies h's lines (one allocation), for Lambda@Edge. The caller wraps the
// result with rt.NewDynamicObject when JS first reads it.
func newLazyHeaders(rt *goja.Runtime, h hooks.Headers) *lazyHeaders {
	return &lazyHeaders{rt: rt, lines: h.Clone()}
}

// lazyCFFHeaders is lazyHeaders in CloudFront Functions' shape. A type of its own rather than
// a flag: a flag would take lazyHeaders past its 112-byte size class, on every Lambda@Edge
// invocation too.
type lazyCFFHeaders struct{ lazyHeaders }

// newLazyCFFHeaders copies h's lines but those named hidden (lower case: the cookie header,
// which CloudFront Functions see parsed in cookies).
func newLazyCFFHeaders(rt *goja.Runtime, h hooks.Headers, hidden string) *lazyCFFHeaders {
	lines := make([]hooks.Header, 0, len(h))
	for _, l := range h {
		if !lowerIs(l.Name, hidden) {
			lines = append(lines, l)
		}
	}
	return &lazyCFFHeaders{lazyHeaders{rt: rt, lines: lines}}
}

// object returns the JS object presenting h, making it on first use.
func (h *lazyCFFHeaders) object() *goja.Object {
	if h.js == nil {
		h.js = h.rt.NewDynamicObject(h)
	}
	return h.js
}

// Get returns the {value, multiValue?} object for key, building it on first access.
func (h *lazyCFFHeaders) Get(key string) goja.Value { return h.get(key, (*lazyHeaders).cffEntry) }

// object returns the JS object presenting h, making it on first use.
func (h *lazyHeaders) object() *goja.Object {
	if h.js == nil {
		h.js = h.rt.NewDynamicObject(h)
	}
	return h.js
}

// lowerIs reports whether the lower-case form of header name is key. Header names are tokens
// (ASCII), so ASCII folding is the whole of it.
func lowerIs(name, key string) bool {
	if len(name) != len(key) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != key[i] {
			return false
		}
	}
	return true
}

// lowerNames returns the lines' names in lower case, made once in one arena (two allocations).
func (h *lazyHeaders) lowerNames() []string {
	if h.lnames != nil || len(h.lines) == 0 {
		return h.lnames
	}
	n := 0
	for i := range h.lines {
		n += len(h.lines[i].Name)
	}
	arena := make([]byte, 0, n)
	for i := range h.lines {
		for _, c := range []byte(h.lines[i].Name) {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			arena = append(arena, c)
		}
	}
	all := string(arena)
	h.lnames = make([]string, len(h.lines))
	pos := 0
	for i := range h.lines {
		h.lnames[i] = all[pos : pos+len(h.lines[i].Name)]
		pos += len(h.lines[i].Name)
	}
	return h.lnames
}

func (h *lazyHeaders) inLines(key string) bool {
	for i := range h.lines {
		if lowerIs(h.lines[i].Name, key) {
			return true
		}
	}
	return false
}

func (h *lazyHeaders) touch(key string) *touchedName {
	for i := range h.touched {
		if h.touched[i].key == key {
			return &h.touched[i]
		}
	}
	return nil
}

// touchedFold returns the touched entry for the lower-case form of header name, if any.
func (h *lazyHeaders) touchedFold(name string) *touchedName {
	for i := range h.touched {
		if lowerIs(name, h.touched[i].key) {
			return &h.touched[i]
		}
	}
	return nil
}

// touchesLines reports whether JS read, assigned or deleted any name the lines have.
func (h *lazyHeaders) touchesLines() bool {
	for i := range h.touched {
		if h.inLines(h.touched[i].key) {
			return true
		}
	}
	return false
}

func (h *lazyHeaders) isExtra(key string) bool {
	for _, k := range h.extra {
		if k == key {
			return true
		}
	}
	return false
}

// Get returns the [{key, value}] array for key, building it on first access.
func (h *lazyHeaders) Get(key string) goja.Value { return h.get(key, (*lazyHeaders).leEntry) }

// get returns the value for key, made by build from the lines on first access.
func (h *lazyHeaders) get(key string, build func(*lazyHeaders, string) goja.Value) goja.Value {
	if t := h.touch(key); t != nil {
		return t.val
	}
	v := build(h, key)
	if v != nil {
		h.touched = append(h.touched, touchedName{key: key, val: v})
	}
	return v
}

// leEntry builds key's [{key, value}] array, or returns nil if no line has that name.
func (h *lazyHeaders) leEntry(key string) goja.Value {
	var items []any
	for i := range h.lines {
		if l := &h.lines[i]; lowerIs(l.Name, key) {
			e := h.rt.NewObject()
			_ = e.Set("key", l.Name)
			_ = e.Set("value", l.Value)
			items = append(items, e)
		}
	}
	if items == nil {
		return nil
	}
	return h.rt.NewArray(items...)
}

// cffEntry builds key's {value, multiValue?} object, or returns nil if no line has that name.
func (h *lazyHeaders) cffEntry(key string) goja.Value {
	var vals []string
	for i := range h.lines {
		if l := &h.lines[i]; lowerIs(l.Name, key) {
			vals = append(vals, l.Value)
		}
	}
	if vals == nil {
		return nil
	}
	return cffEntry(h.rt, vals, nil)
}

func (h *lazyHeaders) Set(key string, val goja.Value) bool {
	t := h.touch(key)
	switch {
	case t == nil:
		if !h.inLines(key) {
			h.extra = append(h.extra, key)
		}
		h.touched = append(h.touched, touchedName{key: key, val: val})
	case t.deleted:
		t.val, t.deleted = val, false
		if !h.isExtra(key) {
			h.extra = append(h.extra, key) // a re-added name enumerates last
		}
	default:
		t.val = val
	}
	return true
}

func (h *lazyHeaders) Has(key string) bool {
	if t := h.touch(key); t != nil {
		return !t.deleted
	}
	return h.inLines(key)
}

func (h *lazyHeaders) Delete(key string) bool {
	if !h.Has(key) {
		return true
	}
	if t := h.touch(key); t != nil {
		t.val, t.deleted = nil, true
	} else {
		h.touched = append(h.touched, touchedName{key: key, deleted: true})
	}
	for i, k := range h.extra {
		if k == key {
			h.extra = append(h.extra[:i], h.extra[i+1:]...)
			break
		}
	}
	return true
}

// Keys lists the original names in first-appearance order, then the added ones.
func (h *lazyHeaders) Keys() []string {
	keys := make([]string, 0, len(h.lines)+len(h.extra))
	for _, k := range h.lowerNames() {
		if t := h.touch(k); t != nil && t.deleted || h.isExtra(k) || containsStr(keys, k) {
			continue
		}
		keys = append(keys, k)
	}
	return append(keys, h.extra...)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// appendAll appends every line, as the event had them.
func (h *lazyHeaders) appendAll(out hooks.Headers) hooks.Headers {
	if out == nil {
		out = make(hooks.Headers, 0, len(h.lines))
	}
	return append(out, h.lines...)
}

// decode returns the headers JS left: names it never touched are copied from the lines, in one
// pass and without allocating; the others come from read, which appends the lines of one name
// as JS holds them. The order is that of Keys: first appearance, then added names.
func (h *lazyHeaders) decode(read func(out hooks.Headers, name string) (hooks.Headers, error)) (hooks.Headers, error) {
	out := make(hooks.Headers, 0, len(h.lines)+len(h.extra))
	var err error
	if !h.touchesLines() {
		// JS only added names (the usual viewer-response function): the lines stay as they
		// came, in their own order, and the added names follow.
		out = append(out, h.lines...)
		for _, name := range h.extra {
			if out, err = read(out, name); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	lines := h.lines
	for i := range lines {
		name := lines[i].Name
		if seenFold(lines[:i], name) {
			continue
		}
		t := h.touchedFold(name)
		if t == nil {
			for _, l := range lines[i:] {
				if equalLower(l.Name, name) {
					out = append(out, l)
				}
			}
			continue
		}
		if t.deleted || h.isExtra(t.key) {
			continue // gone, or re-added: with the added names below
		}
		if out, err = read(out, t.key); err != nil {
			return nil, err
		}
	}
	for _, name := range h.extra {
		if out, err = read(out, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}
