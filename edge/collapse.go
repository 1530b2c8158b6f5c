package edge

import (
	"github.com/valyala/fasthttp"
)

// miss fetches what the cache lacks. Concurrent misses for one cache key are collapsed: one
// request (the leader) goes to the origin, the others wait for it and are then answered from
// the cache, as hits. A follower whose answer was not stored (uncacheable, or another Vary
// variant) fetches for itself, so no viewer ever gets a response meant for another. An origin
// or function failure of the leader is every waiting follower's failure too: they would have
// asked the same origin the same thing at the same moment. Keys whose answer was not stored are
// remembered for a while (passMemo) and not collapsed, and so are requests that bypass the
// cache (they carry what the key does not).
func (s *Server) miss(ctx *fasthttp.RequestCtx, p *pipeline, b *behavior, st *reqState, cacheable bool) (outcome, error) {
	if !cacheable || st.bypass {
		out, _, err := s.fetch(ctx, p, b, st, cacheable)
		return out, err
	}
	if s.passes.pass(st.key, st.now) {
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
	v, err, _ := s.flight.Do(string(st.key), func() (any, error) {
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
	if err != nil {
		return 0, &sharedError{err}
	}
	if stored, _ := v.(bool); stored && s.serveStored(ctx, st) {
		return hitOutcome(st), nil
	}
	out, _, err = s.fetch(ctx, p, b, st, true)
	return out, err
}

// sharedError is a collapsed leader's failure as its followers see it: answered the same way,
// but counted and logged once, by the leader.
type sharedError struct{ err error }

func (e *sharedError) Error() string { return e.err.Error() }
func (e *sharedError) Unwrap() error { return e.err }
