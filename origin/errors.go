package origin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"syscall"

	"github.com/valyala/fasthttp"
)

// Kind classifies why a fetch failed; it decides the status the viewer sees.
type Kind uint8

// The kinds of fetch failure. The zero Kind is not used by this package.
const (
	// Unreachable: no connection could be made (refused, DNS failure,
	// connect timeout, TLS handshake failure). 502.
	Unreachable Kind = iota + 1
	// Timeout: the origin did not answer within ReadTimeout, or the
	// caller's context deadline passed. 504.
	Timeout
	// Reset: the connection closed or was reset before the response was
	// complete. 502.
	Reset
	// Malformed: the origin sent something that is not a valid HTTP/1.x
	// response. 502.
	Malformed
	// TooLarge: the response body exceeds MaxResponseBytes. 502.
	TooLarge
	// Loop: the request's Via already names this node (ViaName). 502, as
	// CloudFront-style CDNs answer a misconfiguration they cannot serve.
	Loop
	// Busy: all MaxConns connections stayed busy for ConnectTimeout. 503.
	Busy
	// Canceled: the caller's context was canceled (the viewer went away).
	// 499, nginx's "client closed request"; nobody is left to read it.
	Canceled
)

var kindNames = [...]string{
	Unreachable: "unreachable",
	Timeout:     "timeout",
	Reset:       "connection reset",
	Malformed:   "malformed response",
	TooLarge:    "response too large",
	Loop:        "request loop",
	Busy:        "no free connection",
	Canceled:    "canceled",
}

// String returns the kind's name as used in error strings.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// Status returns the HTTP status a CDN answers the viewer with for k.
func (k Kind) Status() int {
	switch k {
	case Timeout:
		return http.StatusGatewayTimeout
	case Busy:
		return http.StatusServiceUnavailable
	case Canceled:
		return 499
	default:
		return http.StatusBadGateway
	}
}

// Error is the error every failed Fetch returns.
type Error struct {
	Origin string // the origin's ID
	Kind   Kind
	Err    error // the cause; may be nil
}

// Error returns "origin <id>: <kind>: <cause>".
func (e *Error) Error() string {
	s := "origin " + e.Origin + ": " + e.Kind.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Status returns the HTTP status for the viewer (see Kind.Status).
func (e *Error) Status() int { return e.Kind.Status() }

// errLoop is the cause of a Loop error.
var errLoop = errors.New("the request's Via already names this node")

// dialError marks a failure to connect. short is true when the dial had
// less than ConnectTimeout because the fetch's own deadline was nearer.
type dialError struct {
	err   error
	short bool
}

func (e *dialError) Error() string { return "connect: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// classify turns an error from fasthttp into an *Error.
func (o *Origin) classify(ctx context.Context, err error) *Error {
	e := &Error{Origin: o.cfg.ID, Err: err}
	var de *dialError
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e.Kind = TooLarge
	case errors.As(err, &de):
		e.Kind = Unreachable
		if de.short && isTimeout(de.err) {
			e.Kind = Timeout
		}
	case errors.Is(ctx.Err(), context.Canceled):
		e.Kind, e.Err = Canceled, ctx.Err()
	case ctx.Err() != nil, isTimeout(err):
		e.Kind = Timeout
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		e.Kind = Busy
	case isReset(err):
		e.Kind = Reset
	default:
		e.Kind = Malformed
	}
	return e
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &t) && t.Timeout()
}

// isReset reports whether err means the connection went away under us.
func isReset(err error) bool {
	return errors.Is(err, errIdleBytes) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// isStaleConn reports whether err is what a keep-alive connection the
// origin closed while idle produces: closed before any response byte.
// Such a request is retried once on a fresh connection if idempotent.
func isStaleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
