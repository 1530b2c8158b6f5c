package edge

import (
	"context"
	"log/slog"
	"time"

	"github.com/valyala/fasthttp"
)

// logAccess writes one JSON access-log line for the request in ctx.
func (s *Server) logAccess(ctx *fasthttp.RequestCtx, behavior string, out outcome, elapsed time.Duration) {
	s.access.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("client", ctx.RemoteIP().String()),
		slog.String("method", string(ctx.Method())),
		slog.String("host", string(ctx.Host())),
		slog.String("uri", string(ctx.RequestURI())),
		slog.Int("status", ctx.Response.StatusCode()),
		slog.Int("bytes", bodyBytes(&ctx.Response)),
		slog.String("cache", out.word()),
		slog.String("behavior", behavior),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("user_agent", string(ctx.UserAgent())),
	)
}

// bodyBytes is the size of the response body: its length as announced when it streams from
// the origin (-1 when chunked), since reading Body would drain the stream into memory.
func bodyBytes(r *fasthttp.Response) int {
	if r.IsBodyStream() {
		return r.Header.ContentLength()
	}
	return len(r.Body())
}
