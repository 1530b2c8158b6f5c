package origin

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Upper bounds are generous on purpose: the machine running the tests may
// be loaded. What they catch is a hang (the defaults are 5s and 30s).
const bound = 3 * time.Second

// closedPortURL returns a URL on which nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestFetchFailures(t *testing.T) {
	const short = 200 * time.Millisecond
	for _, tc := range []struct {
		name     string
		handle   func(net.Conn, rawRequest) bool // nil: nothing listens
		cfg      Config
		method   string
		wantKind Kind
		wantCode int
		minTime  time.Duration
	}{
		{name: "origin down", wantKind: Unreachable, wantCode: 502},
		{
			name: "no response within ReadTimeout", handle: hang,
			cfg: Config{ReadTimeout: short}, wantKind: Timeout, wantCode: 504, minTime: short * 3 / 4,
		},
		{
			name: "body slower than ReadTimeout",
			handle: func(c net.Conn, _ rawRequest) bool {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
				return hang(c, rawRequest{})
			},
			cfg: Config{ReadTimeout: short}, wantKind: Timeout, wantCode: 504, minTime: short * 3 / 4,
		},
		{
			name: "TLS handshake never completes", handle: hang,
			cfg: Config{ConnectTimeout: short}, wantKind: Unreachable, wantCode: 502, minTime: short * 3 / 4,
		},
		{
			name: "reset mid-body",
			handle: func(c net.Conn, _ rawRequest) bool {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+strings.Repeat("x", 50))
				return false
			},
			wantKind: Reset, wantCode: 502,
		},
		{
			name:     "closed before responding",
			handle:   func(net.Conn, rawRequest) bool { return false },
			wantKind: Reset, wantCode: 502,
		},
		{
			name: "not HTTP",
			handle: func(c net.Conn, _ rawRequest) bool {
				io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
				return false
			},
			wantKind: Malformed, wantCode: 502,
		},
		{
			name:   "body over MaxResponseBytes",
			handle: answer(200, strings.Repeat("x", 4096)),
			cfg:    Config{MaxResponseBytes: 1024}, wantKind: TooLarge, wantCode: 502,
		},
		{
			name: "chunked body over MaxResponseBytes",
			handle: answer(200, strings.Repeat("400\r\n"+strings.Repeat("x", 1024)+"\r\n", 4)+"0\r\n\r\n",
				"Transfer-Encoding: chunked"),
			cfg: Config{MaxResponseBytes: 1024}, wantKind: TooLarge, wantCode: 502,
		},
		{
			name: "POST reset is not retried", method: "POST",
			handle:   func(net.Conn, rawRequest) bool { return false },
			wantKind: Reset, wantCode: 502,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.ID = "test-origin"
			cfg.URL = closedPortURL(t)
			var srv *rawServer
			if tc.handle != nil {
				srv = newRawServer(t, tc.handle)
				cfg.URL = srv.url()
				if strings.HasPrefix(tc.name, "TLS") {
					cfg.URL = "https://" + srv.ln.Addr().String()
				}
			}
			o := newOrigin(t, cfg)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			resp := &fasthttp.Response{}
			start := time.Now()
			err := o.Fetch(context.Background(), newRequest(method, "/"), resp, Viewer{})
			elapsed := time.Since(start)

			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if oe.Kind != tc.wantKind || oe.Status() != tc.wantCode {
				t.Errorf("got %v (%d), want %v (%d): %v", oe.Kind, oe.Status(), tc.wantKind, tc.wantCode, err)
			}
			if !strings.HasPrefix(err.Error(), "origin test-origin: ") {
				t.Errorf("error %q lacks the origin prefix", err)
			}
			if elapsed > bound || elapsed < tc.minTime {
				t.Errorf("failed after %v, want within [%v, %v]", elapsed, tc.minTime, bound)
			}
			if resp.StatusCode() != 200 || len(resp.Body()) != 0 {
				t.Errorf("resp not reset after error: %d %q", resp.StatusCode(), resp.Body())
			}
			if tc.method == "POST" && srv.accepted.Load() != 1 {
				t.Errorf("POST sent on %d connections, want 1 (no retry)", srv.accepted.Load())
			}
		})
	}
}

func TestFetchContext(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		wantKind Kind
		wantErr  error
		wantCode int
		wantConn bool          // the origin is contacted at all
		readTO   time.Duration // Config.ReadTimeout; 0: the 30s default, so ctx must win
	}{
		{
			name: "ReadTimeout shorter than the deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Minute)
			},
			readTO: 200 * time.Millisecond, wantKind: Timeout, wantCode: 504, wantConn: true,
		},
		{
			name: "canceled while waiting",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantKind: Canceled, wantErr: context.Canceled, wantCode: 499, wantConn: true,
		},
		{
			name: "deadline shorter than ReadTimeout",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			wantKind: Timeout, wantCode: 504, wantConn: true,
		},
		{
			name: "already canceled",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			wantKind: Canceled, wantErr: context.Canceled, wantCode: 499,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, hang)
			o := newOrigin(t, Config{URL: srv.url(), ReadTimeout: tc.readTO})
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			err := o.Fetch(ctx, newRequest("GET", "/"), &fasthttp.Response{}, Viewer{})
			if elapsed := time.Since(start); elapsed > bound {
				t.Errorf("returned after %v, want < %v", elapsed, bound)
			}
			var oe *Error
			if !errors.As(err, &oe) || oe.Kind != tc.wantKind || oe.Status() != tc.wantCode {
				t.Fatalf("err = %v, want kind %v (%d)", err, tc.wantKind, tc.wantCode)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantErr)
			}
			if got := srv.accepted.Load() > 0; got != tc.wantConn {
				t.Errorf("origin contacted = %v, want %v", got, tc.wantConn)
			}
		})
	}
}

func TestErrorType(t *testing.T) {
	cause := errors.New("boom")
	for _, tc := range []struct {
		kind Kind
		code int
		str  string
	}{
		{Unreachable, 502, "origin o: unreachable: boom"},
		{Timeout, 504, "origin o: timeout: boom"},
		{Reset, 502, "origin o: connection reset: boom"},
		{Malformed, 502, "origin o: malformed response: boom"},
		{TooLarge, 502, "origin o: response too large: boom"},
		{Loop, 502, "origin o: request loop: boom"},
		{Busy, 503, "origin o: no free connection: boom"},
		{Canceled, 499, "origin o: canceled: boom"},
		{Kind(0), 502, "origin o: unknown: boom"},
	} {
		e := &Error{Origin: "o", Kind: tc.kind, Err: cause}
		if e.Status() != tc.code || e.Error() != tc.str || !errors.Is(e, cause) {
			t.Errorf("%v: Status %d, Error %q, Is(cause) %v", tc.kind, e.Status(), e.Error(), errors.Is(e, cause))
		}
	}
	if s := (&Error{Origin: "o", Kind: Loop}).Error(); s != "origin o: request loop" {
		t.Errorf("no cause: %q", s)
	}
}

func TestFetchBusy(t *testing.T) {
	srv := newRawServer(t, hang)
	o := newOrigin(t, Config{URL: srv.url(), MaxConns: 1, ConnectTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- o.Fetch(ctx, newRequest("GET", "/"), &fasthttp.Response{}, Viewer{}) }()
	for deadline := time.Now().Add(bound); len(srv.requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("first request never reached the origin")
		}
	}

	start := time.Now()
	err := o.Fetch(context.Background(), newRequest("GET", "/"), &fasthttp.Response{}, Viewer{})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != Busy || oe.Status() != 503 {
		t.Errorf("second fetch: err %v, want Busy (503)", err)
	}
	if elapsed := time.Since(start); elapsed > bound {
		t.Errorf("second fetch took %v", elapsed)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first fetch: err %v, want canceled", err)
	}
}
