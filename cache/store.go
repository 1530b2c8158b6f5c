package cache

import "slices"

// Store is what the pipeline needs from storage. Implementations are safe
// for concurrent use.
type Store interface {
	// Get returns the object stored under key. It must not retain key and
	// makes no allocations, on a hit or a miss. The object may be stale:
	// the caller checks Fresh.
	Get(key []byte) (*Object, bool)
	// Set stores obj under key, replacing what was there, and takes
	// ownership of obj (it fills in obj.Key when empty). It copies key.
	// Once Set returns, a Get of key sees obj, unless the store declined or
	// has already evicted it (budget, admission, expiry).
	Set(key []byte, obj *Object)
	// Delete removes what key holds, if anything, and reports whether it
	// removed an object. It copies nothing it keeps.
	Delete(key []byte) bool
	// Purge removes the objects p selects, or marks them stale when p.Soft
	// (the next request revalidates them), and returns how many it removed
	// or marked; an invalid pattern selects nothing.
	Purge(p Purge) int
}

// Responses that vary (RFC 9111 4.1) are stored in two parts: a Vary marker
// under the primary key, an Object with Status 0 and no body that lists the
// Vary header names, and the response itself under the secondary key built
// by AppendVaryKey from those names and the request's values. Lookup and
// Insert implement this over any Store; the pipeline should use them rather
// than Get and Set directly.

// IsVaryMarker reports whether o is a Vary marker, which is never served.
func (o *Object) IsVaryMarker() bool { return o.Status == 0 }

// Lookup returns the object stored for r under its primary key base,
// following a Vary marker to the variant that matches r. buf is scratch for
// the secondary key; Lookup returns it, grown if needed, for reuse. It makes
// no allocations when buf has room. The object may be stale.
func Lookup(s Store, base []byte, r Request, buf []byte) (obj *Object, scratch []byte, ok bool) {
	obj, ok = s.Get(base)
	switch {
	case !ok:
		return nil, buf, false
	case !obj.IsVaryMarker() && len(obj.Vary) > 0:
		// A varying response set under its primary key without Insert: which
		// request it answered is unknown, so it answers none.
		return nil, buf, false
	case !obj.IsVaryMarker():
		return obj, buf, true
	}
	buf = AppendVaryKey(buf[:0], base, obj.Vary, r)
	obj, ok = s.Get(buf)
	if ok && obj.IsVaryMarker() { // cannot happen through Insert
		return nil, buf, false
	}
	return obj, buf, ok
}

// VariantKey returns the key under which r's variant is stored, and true,
// when base holds a Vary marker; else buf and false. buf is scratch as for
// Lookup. Collapsing misses on it lets each variant have its own leader.
func VariantKey(s Store, base []byte, r Request, buf []byte) ([]byte, bool) {
	marker, ok := s.Get(base)
	if !ok || !marker.IsVaryMarker() {
		return buf, false
	}
	return AppendVaryKey(buf[:0], base, marker.Vary, r), true
}

// Insert stores obj, the response to r, under its primary key base: directly
// when it does not vary, else under its variant key with a Vary marker under
// base (replacing whatever base held). A response with "Vary: *" is not
// stored (Freshness already refuses it). buf is scratch as for Lookup. Insert
// takes ownership of obj as Store.Set does.
func Insert(s Store, base []byte, r Request, obj *Object, buf []byte) []byte {
	if len(obj.Vary) == 0 {
		s.Set(base, obj)
		return buf
	}
	if slices.Contains(obj.Vary, "*") {
		return buf
	}
	buf = AppendVaryKey(buf[:0], base, obj.Vary, r)
	s.Set(buf, obj)
	s.Set(base, &Object{
		Path:       obj.Path,
		Host:       obj.Host,
		Stored:     obj.Stored,
		InitialAge: obj.InitialAge,
		TTL:        obj.TTL,
		Vary:       obj.Vary,
		Tags:       obj.Tags,
	})
	return buf
}
