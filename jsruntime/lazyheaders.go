package jsruntime

import (
	"unsafe"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// lazyHeaders is a Lambda@Edge headers object ({name: [{key, value}]}) backed by a private
// copy of the header lines. A name's array is built only when JS reads it, so a function that
// touches two headers pays for two; decoding the result copies untouched names straight from
// the lines. It behaves as an ordinary object to JS (keys in first-appearance order, then added
// names; reads, writes, deletes, enumeration, JSON.stringify).
//
// It holds no reference to the event it came from: all strings live in one private arena.
// It is used only on its vm's goroutine.
type lazyHeaders struct {
	rt      *goja.Runtime
	lines   []lazyLine
	vals    map[string]goja.Value // arrays built or assigned by JS
	deleted map[string]bool
	extra   []string // names added by JS (or re-added after a delete), in order
}

type lazyLine struct{ lname, name, value string }

var _ goja.DynamicObject = (*lazyHeaders)(nil)

// newLazyHeaders copies h into one arena (two allocations whatever the number of lines).
func newLazyHeaders(rt *goja.Runtime, h hooks.Headers) *goja.Object {
	n := 0
	for _, f := range h {
		n += 2*len(f.Name) + len(f.Value)
	}
	arena := make([]byte, 0, n)
	for _, f := range h {
		for i := 0; i < len(f.Name); i++ {
			c := f.Name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			arena = append(arena, c)
		}
		arena = append(arena, f.Name...)
		arena = append(arena, f.Value...)
	}
	// The arena is never written again, so the string shares its bytes (one copy, not two).
	s := unsafe.String(unsafe.SliceData(arena), len(arena))
	lh := &lazyHeaders{rt: rt, lines: make([]lazyLine, len(h))}
	pos := 0
	for i, f := range h {
		ln, vn := len(f.Name), len(f.Value)
		lh.lines[i] = lazyLine{lname: s[pos : pos+ln], name: s[pos+ln : pos+2*ln], value: s[pos+2*ln : pos+2*ln+vn]}
		pos += 2*ln + vn
	}
	return rt.NewDynamicObject(lh)
}

func (h *lazyHeaders) inLines(key string) bool {
	for i := range h.lines {
		if h.lines[i].lname == key {
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

// Get returns the array for key, building it from the lines on first access.
func (h *lazyHeaders) Get(key string) goja.Value {
	if h.deleted[key] {
		return nil
	}
	if v, ok := h.vals[key]; ok {
		return v
	}
	var items []any
	for i := range h.lines {
		if l := &h.lines[i]; l.lname == key {
			e := h.rt.NewObject()
			_ = e.Set("key", l.name)
			_ = e.Set("value", l.value)
			items = append(items, e)
		}
	}
	if items == nil {
		return nil
	}
	arr := h.rt.NewArray(items...)
	if h.vals == nil {
		h.vals = map[string]goja.Value{}
	}
	h.vals[key] = arr
	return arr
}

func (h *lazyHeaders) Set(key string, val goja.Value) bool {
	if h.vals == nil {
		h.vals = map[string]goja.Value{}
	}
	if h.deleted[key] {
		delete(h.deleted, key)
		if !h.isExtra(key) {
			h.extra = append(h.extra, key)
		}
	} else if _, ok := h.vals[key]; !ok && !h.inLines(key) && !h.isExtra(key) {
		h.extra = append(h.extra, key)
	}
	h.vals[key] = val
	return true
}

func (h *lazyHeaders) Has(key string) bool {
	if h.deleted[key] {
		return false
	}
	if _, ok := h.vals[key]; ok {
		return true
	}
	return h.inLines(key)
}

func (h *lazyHeaders) Delete(key string) bool {
	if h.Has(key) {
		if h.deleted == nil {
			h.deleted = map[string]bool{}
		}
		h.deleted[key] = true
		delete(h.vals, key)
		for i, k := range h.extra {
			if k == key {
				h.extra = append(h.extra[:i], h.extra[i+1:]...)
				break
			}
		}
	}
	return true
}

// Keys lists the original names in first-appearance order, then the added ones.
func (h *lazyHeaders) Keys() []string {
	keys := make([]string, 0, len(h.lines)+len(h.extra))
	for i := range h.lines {
		k := h.lines[i].lname
		if h.deleted[k] || h.isExtra(k) || containsStr(keys, k) {
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

// appendUntouched appends the lines of key to out when JS never built nor assigned its array;
// ok is false (and out unchanged) otherwise.
func (h *lazyHeaders) appendUntouched(out hooks.Headers, key string) (_ hooks.Headers, ok bool) {
	if _, built := h.vals[key]; built {
		return out, false
	}
	for i := range h.lines {
		if l := &h.lines[i]; l.lname == key {
			out = append(out, hooks.Header{Name: l.name, Value: l.value})
		}
	}
	return out, true
}
