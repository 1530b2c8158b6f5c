package jsruntime

import (
	"strconv"

	"github.com/dop251/goja"
)

// stringCache keeps the JS string last built for each recurring event field of one vm
// (distribution, stage, method, status, ...), so a warm invocation whose field is unchanged
// reuses the value instead of boxing a new one. JS strings are immutable, so sharing them
// between invocations is invisible to the function. It is used on its vm's goroutine only.
type stringCache struct {
	slot  [numCacheSlots]cachedString
	code  int
	codeV goja.Value
}

type cachedString struct {
	s string
	v goja.Value
}

// The cached fields.
const (
	cacheDomain = iota
	cacheDistID
	cacheStage
	cacheClientIP
	cacheMethod
	cacheQuery
	cacheURI
	cacheStatusDesc
	numCacheSlots
)

// get returns s as a JS string, reusing the slot's value when s is unchanged.
func (c *stringCache) get(rt *goja.Runtime, slot int, s string) goja.Value {
	e := &c.slot[slot]
	if e.v != nil && e.s == s {
		return e.v
	}
	e.s, e.v = s, rt.ToValue(s)
	return e.v
}

// status returns the status code as a JS string ("200"), as Lambda@Edge passes it.
func (c *stringCache) status(rt *goja.Runtime, code int) goja.Value {
	if c.codeV == nil || c.code != code {
		c.code, c.codeV = code, rt.ToValue(strconv.Itoa(code))
	}
	return c.codeV
}
