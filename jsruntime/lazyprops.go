package jsruntime

import "github.com/dop251/goja"

// lazyProps is the property store of the Lambda@Edge event's objects: a fixed, ordered list of
// keys whose values are built on the first read, plus whatever JS assigns, deletes or adds.
// Building a whole event up front cost nearly half of a warm invocation (BenchmarkPhases: 5.5 of
// 11.9 µs), and most functions read a handful of its fields; built lazily, an untouched field
// costs nothing, and the result decoder reads untouched fields straight from Go (see pristine).
//
// To JS the object behaves as an ordinary one: keys enumerate in insertion order (the fixed
// keys, then added ones; a deleted and re-added key moves to the end), and reads, writes, `in`,
// delete, Object.keys, JSON.stringify and spread work as on a literal. Like every goja
// DynamicObject it cannot be frozen or sealed and takes only plain data properties.
//
// It implements goja.DynamicObject, and so does every type that embeds it. It is used on its
// vm's goroutine only.
type lazyProps struct {
	b     builder      // builds the fixed keys' values: the embedding type
	keys  []string     // the fixed keys, shared and read-only
	vals  []goja.Value // by fixed key: nil until built or assigned
	gone  uint32       // bit i: fixed key i was deleted
	dirty uint32       // bit i: fixed key i was assigned by JS
	extra []extraProp  // keys JS added, in order
}

type extraProp struct {
	key string
	val goja.Value
}

// builder builds the value of fixed key i on its first read.
type builder interface {
	build(i int) goja.Value
}

var _ goja.DynamicObject = (*lazyProps)(nil)

// init sets the fixed keys and their builder; vals must have room for one value per key.
func (p *lazyProps) init(b builder, keys []string, vals []goja.Value) {
	p.b, p.keys, p.vals = b, keys, vals[:len(keys)]
}

func (p *lazyProps) index(key string) int {
	for i, k := range p.keys {
		if k == key {
			return i
		}
	}
	return -1
}

func (p *lazyProps) extraIndex(key string) int {
	for i := range p.extra {
		if p.extra[i].key == key {
			return i
		}
	}
	return -1
}

func (p *lazyProps) Get(key string) goja.Value {
	if i := p.index(key); i >= 0 && p.gone&(1<<i) == 0 {
		if p.vals[i] == nil {
			p.vals[i] = p.b.build(i)
		}
		return p.vals[i]
	}
	if j := p.extraIndex(key); j >= 0 {
		return p.extra[j].val
	}
	return nil
}

func (p *lazyProps) Set(key string, val goja.Value) bool {
	if i := p.index(key); i >= 0 && p.gone&(1<<i) == 0 {
		p.vals[i] = val
		p.dirty |= 1 << i
		return true
	}
	if j := p.extraIndex(key); j >= 0 {
		p.extra[j].val = val
		return true
	}
	p.extra = append(p.extra, extraProp{key, val})
	return true
}

func (p *lazyProps) Has(key string) bool {
	if i := p.index(key); i >= 0 && p.gone&(1<<i) == 0 {
		return true
	}
	return p.extraIndex(key) >= 0
}

func (p *lazyProps) Delete(key string) bool {
	if i := p.index(key); i >= 0 && p.gone&(1<<i) == 0 {
		p.gone |= 1 << i
		p.vals[i] = nil
		return true
	}
	if j := p.extraIndex(key); j >= 0 {
		p.extra = append(p.extra[:j], p.extra[j+1:]...)
	}
	return true
}

func (p *lazyProps) Keys() []string {
	out := make([]string, 0, len(p.keys)+len(p.extra))
	for i, k := range p.keys {
		if p.gone&(1<<i) == 0 {
			out = append(out, k)
		}
	}
	for _, e := range p.extra {
		out = append(out, e.key)
	}
	return out
}

// pristine reports whether fixed key i was never built, assigned nor deleted: its value is
// then exactly the event's, which the decoder takes from Go without touching JS.
func (p *lazyProps) pristine(i int) bool {
	return p.vals[i] == nil && (p.gone|p.dirty)&(1<<i) == 0
}

// unassigned reports whether fixed key i still holds the value it was built with (or is not
// built yet): neither assigned nor deleted. Its value may be an object JS changed inside.
func (p *lazyProps) unassigned(i int) bool {
	return (p.gone|p.dirty)&(1<<i) == 0
}
