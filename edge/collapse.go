package edge

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/origin"
)

// miss fetches what the cache lacks. Concurrent misses for one cache key are collapsed: one
// request (the leader) goes to the origin, the others wait for it and are then answered from
// the cache, as hits. Once the cache knows a key's answers vary (a Vary marker), each variant
// collapses on its own key. A follower whose answer was not stored (uncacheable, or another
// Vary variant) fetches for itself, so no viewer ever gets a response meant for another. An
// origin's failure to answer (unreachable, timeout, 5xx turned into a stale answer) is every
// waiting follower's failure too: they would have asked the same origin the same thing at the
// same moment. A failure of the leader's own (a function's error on its request, a request
// loop its Via shows) is not: the followers fetch for themselves. Keys whose answer was not stored are
// remembered for a while (passMemo) and not collapsed, and so are requests that bypass the
// cache (they carry what the key does not).
func (s *Server) miss(ctx *fasthttp.RequestCtx, p *pipeline, b *behavior, st *reqState, cacheable bool) (outcome, error) {
	if !cacheable || st.bypass {
		out, _, err := s.fetch(ctx, p, b, st, cacheable)
		return out, err
	}
	if s.passes.pass(st.key, st.now) {
		if st.pre.rng != nil {
			// The whole object would not be stored: ask the origin for the range alone.
			out, _, err := s.fetch(ctx, p, b, st, false)
			return out, err
		}
		out, stored, err := s.fetch(ctx, p, b, st, true)
		if stored {
			s.passes.forget(st.key)
		}
		return out, err
	}
	var (
		leader bool
		out    outcome
	)
	flightKey := st.key
	if k, varies := cache.VariantKey(s.store, st.key, &st.view, st.vkey); varies {
		st.vkey, flightKey = k, k
	}
	v, err, _ := s.flight.Do(string(flightKey), func() (any, error) {
		leader = true
		if s.serveStored(ctx, st) {
			// A flight for the key ended between this request's lookup and its own.
			out = hitOutcome(st)
			return true, nil
		}
		var stored bool
		var err error
		out, stored, err = s.fetch(ctx, p, b, st, true)
		if err == nil && !stored {
			s.passes.remember(st.key, st.now)
		}
		return stored, err
	})
	if leader {
		return out, err
	}
	if err != nil && sharedFailure(err) {
		return 0, &sharedError{err}
	}
	if stored, _ := v.(bool); err == nil && stored && s.serveStored(ctx, st) {
		return hitOutcome(st), nil
	}
	out, _, err = s.fetch(ctx, p, b, st, true)
	return out, err
}

// sharedFailure reports whether a leader's failure is its followers' too: the origin's, not
// one its own request caused.
func sharedFailure(err error) bool {
	var oe *origin.Error
	if errors.As(err, &oe) {
		// A loop is the request's own; so is "too large for a range": a follower without a
		// Range may stream the same object.
		return oe.Kind != origin.Loop && oe.Kind != origin.TooLarge
	}
	var se *originStatusError
	return errors.As(err, &se)
}

// sharedError is a collapsed leader's failure as its followers see it: answered the same way,
// but counted and logged once, by the leader.
type sharedError struct{ err error }

func (e *sharedError) Error() string { return e.err.Error() }
func (e *sharedError) Unwrap() error { return e.err }
