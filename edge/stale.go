package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/origin"
)

// originStatusError is an origin's 5xx answer, turned into a failure when a stale object may
// answer instead (RFC 5861 stale-if-error, the behavior's stale_if_error). A collapsed
// follower with no stale object of its own to serve gets a 502 for it.
type originStatusError struct{ status int }

func (e *originStatusError) Error() string { return fmt.Sprintf("origin answered %d", e.status) }

// staleOnError reports whether the stale object held for the request may answer it now that
// the origin failed: a 5xx, a refused or reset connection, a timeout, but not a function's
// error nor a request loop.
func (s *Server) staleOnError(b *behavior, st *reqState, err error) bool {
	obj := st.stale
	if obj == nil || !obj.ServableStale(st.now, max(obj.StaleIfError, b.policy.StaleIfError)) {
		return false
	}
	var fe *functionError
	var oe *origin.Error
	return !errors.As(err, &fe) && !(errors.As(err, &oe) && oe.Kind == origin.Loop)
}

// serveStaleOnError answers with the stale object after an origin failure, when staleOnError
// allows it, counting and logging the failure as fail would.
func (s *Server) serveStaleOnError(ctx *fasthttp.RequestCtx, b *behavior, st *reqState, err error) bool {
	if !s.staleOnError(b, st, err) {
		return false
	}
	s.originFailed(ctx, err, st.stale.Status)
	ctx.Response.Reset()
	s.writeHit(ctx, st, st.stale)
	return true
}

// revalidateLater refreshes, in the background, the stale object just served to the request
// in ctx (RFC 5861 stale-while-revalidate): once per key, however many viewers get the stale
// object meanwhile, and collapsed with any fetch of the key. The background fetch works on a
// copy of the request as the pipeline had made it (after the viewer-request function).
func (s *Server) revalidateLater(ctx *fasthttp.RequestCtx, p *pipeline, b *behavior, st *reqState) {
	key := string(st.key)
	if _, busy := s.revalidating.LoadOrStore(key, struct{}{}); busy {
		return
	}
	bg := new(fasthttp.RequestCtx)
	bg.Init(&ctx.Request, ctx.RemoteAddr(), nil)
	// The copy keeps what the key was made of beyond the request itself: the viewer's scheme
	// and a CloudFront function's choice of origin. Without them the refresh would ask the
	// behavior's origin as over plain HTTP, and store its answer under this key.
	bst := &reqState{key: []byte(key), stale: st.stale, now: st.now, tls: st.tls, origin: st.origin}
	bst.view.r = &bg.Request
	go func() {
		defer s.revalidating.Delete(key)
		// An answer that is not stored is streamed into bg's response, which no viewer reads:
		// closing the stream gives its origin connection back.
		defer bg.Response.CloseBodyStream()
		_, err, _ := s.flight.Do(key, func() (any, error) {
			_, stored, err := s.fetch(bg, p, b, bst, true)
			return stored, err
		})
		if err != nil {
			s.log.LogAttrs(context.Background(), slog.LevelWarn, "background revalidation failed",
				slog.String("path", string(bg.Path())), slog.String("error", err.Error()))
		}
	}()
}
