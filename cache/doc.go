// Package cache stores cached HTTP responses and implements the HTTP caching
// rules an edge node needs: cache keys from a behavior's Policy, freshness
// (RFC 9111 with CloudFront's min/default/max TTL semantics), Vary, and
// purging by path, glob, tag or everything.
//
// The package knows nothing about the HTTP server: the edge adapts its
// request type to Request and its origin responses to Response. It never
// retains a Request and copies what it keeps from a Response.
//
// The pieces, one file each:
//
//   - object.go: Object, the immutable cached response, and its age (RFC 9111 4.2.3).
//   - policy.go, key.go: Policy and cache keys; Vary secondary keys.
//   - cachecontrol.go: the Cache-Control parser.
//   - freshness.go: whether a response may be stored, and for how long.
//   - store.go: the Store seam, and Lookup/Insert that follow Vary across it.
//   - memory.go: Memory, the ristretto-backed Store with a byte budget.
//   - purge.go: purge patterns.
//
// Times are passed in (now, request and response times), never read from a
// global clock, except where Memory hands expiry to ristretto (wall clock).
package cache
