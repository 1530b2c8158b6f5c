package origin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/internal/poll"
)

// interimRecord is one interim response as an Interim saw it.
type interimRecord struct {
	status int
	fields string // "Name: value" lines, in order, joined by "\n"
}

// recordInterims returns an Interim that appends to *got.
func recordInterims(got *[]interimRecord) Interim {
	return func(status int, h *fasthttp.ResponseHeader) {
		var fields []string
		for k, v := range h.All() {
			fields = append(fields, string(k)+": "+string(v))
		}
		*got = append(*got, interimRecord{status, strings.Join(fields, "\n")})
	}
}

// RFC 9110 15.2: a proxy forwards interim responses. Fetch hands them over (hop-by-hop fields
// removed, a 100 that answers no Expect dropped) and leaves the connection as it would without.
func TestFetchInterim(t *testing.T) {
	const interims = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n" +
		"HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 102 Processing\r\n\r\n"
	want := []interimRecord{{103, "Link: </a.css>; rel=preload"}, {102, ""}}
	for _, tc := range []struct {
		name   string
		method string
		stream bool
		final  string
		body   string
	}{
		{"buffered", "GET", false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok"},
		{"streamed", "GET", true, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok"},
		{"streamed chunked", "GET", true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok"},
		{"streamed empty", "GET", true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""},
		{"streamed 304", "GET", true, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", ""},
		{"head", "HEAD", true, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn, _ rawRequest) bool {
				_, _ = io.WriteString(c, interims+tc.final)
				return true
			})
			o := newOrigin(t, Config{URL: srv.url()})
			for i := range 2 { // the second on the kept-alive connection
				var got []interimRecord
				resp := &fasthttp.Response{StreamBody: tc.stream}
				err := o.Fetch(context.Background(), newRequest(tc.method, "/"), resp, Viewer{Interim: recordInterims(&got)})
				if err != nil {
					t.Fatalf("fetch %d: %v", i, err)
				}
				var body []byte
				if bs := resp.BodyStream(); bs != nil {
					if body, err = io.ReadAll(bs); err != nil {
						t.Fatalf("fetch %d: reading the stream: %v", i, err)
					}
					resp.CloseBodyStream()
				} else {
					body = resp.Body()
				}
				if string(body) != tc.body || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("fetch %d: body %q, interims %v; want %q, %v", i, body, got, tc.body, want)
				}
			}
			if n := srv.accepted.Load(); n != 1 {
				t.Errorf("origin accepted %d connections for 2 fetches, want 1", n)
			}
			if st := o.Stats(); st.Conns != 1 || st.Idle != 1 {
				t.Errorf("Stats %+v, want the one connection idle", st)
			}
		})
	}
}

// An interim response is handed over when it arrives, not with the final one: the origin here
// holds its final response until the 103 has been seen.
func TestFetchInterimArrivesFirst(t *testing.T) {
	seen := make(chan chan struct{}, 1) // the fetch's, taken by the origin
	srv := newRawServer(t, func(c net.Conn, _ rawRequest) bool {
		_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n")
		body := "late"
		select {
		case <-<-seen:
			body = "early"
		case <-time.After(5 * time.Second):
		}
		writeResponse(c, 200, nil, body)
		return true
	})
	o := newOrigin(t, Config{URL: srv.url()})
	for _, stream := range []bool{false, true} {
		resp := &fasthttp.Response{StreamBody: stream}
		ch := make(chan struct{})
		seen <- ch
		interim := func(int, *fasthttp.ResponseHeader) { close(ch) }
		if err := o.Fetch(context.Background(), newRequest("GET", "/"), resp, Viewer{Interim: interim}); err != nil {
			t.Fatal(err)
		}
		var body []byte
		if stream {
			body, _ = io.ReadAll(resp.BodyStream())
			resp.CloseBodyStream()
		} else {
			body = resp.Body()
		}
		if string(body) != "early" {
			t.Errorf("stream %v: body %q: the 103 was not handed over before the final response", stream, body)
		}
	}
}

func TestFetchInterimFailures(t *testing.T) {
	t.Run("too many", func(t *testing.T) {
		srv := newRawServer(t, func(c net.Conn, _ rawRequest) bool {
			_, _ = io.WriteString(c, strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", maxInterims+1))
			writeResponse(c, 200, nil, "ok")
			return true
		})
		o := newOrigin(t, Config{URL: srv.url()})
		var got []interimRecord
		err := o.Fetch(context.Background(), newRequest("GET", "/"), &fasthttp.Response{StreamBody: true},
			Viewer{Interim: recordInterims(&got)})
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Malformed || !errors.Is(err, errTooManyInterims) {
			t.Errorf("err %v, want Malformed: too many interims", err)
		}
		if len(got) != maxInterims {
			t.Errorf("%d interims handed over, want %d", len(got), maxInterims)
		}
		if n := srv.accepted.Load(); n != 1 {
			t.Errorf("origin accepted %d connections, want 1: no retry", n)
		}
		if st := o.Stats(); st.Conns != 0 {
			t.Errorf("Stats %+v, want the connection closed", st)
		}
	})
	t.Run("stall after an interim", func(t *testing.T) {
		stop := make(chan struct{})
		srv := newRawServer(t, func(c net.Conn, _ rawRequest) bool {
			_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\n\r\n")
			<-stop
			return false
		})
		t.Cleanup(func() { close(stop) })
		o := newOrigin(t, Config{URL: srv.url(), ReadTimeout: 200 * time.Millisecond})
		var got []interimRecord
		start := time.Now()
		err := o.Fetch(context.Background(), newRequest("GET", "/"), &fasthttp.Response{StreamBody: true},
			Viewer{Interim: recordInterims(&got)})
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != Timeout {
			t.Errorf("err %v, want Timeout", err)
		}
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Errorf("took %v to time out, want about the read timeout", took)
		}
		if len(got) != 1 {
			t.Errorf("%d interims handed over, want 1", len(got))
		}
	})
}

// A streamed body's connection is reused only when the body was read to its end; a stream
// closed early, or from another goroutine while a read is blocked, closes it.
func TestFetchInterimStreamRelease(t *testing.T) {
	block := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, r rawRequest) bool {
		_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
		if strings.Contains(r.Line, "/stall") {
			<-block
			return false
		}
		_, _ = io.WriteString(c, "cd")
		return true
	})
	t.Cleanup(func() { close(block) })
	o := newOrigin(t, Config{URL: srv.url()})
	interim := func(int, *fasthttp.ResponseHeader) {}
	start := func(path string) *fasthttp.Response {
		resp := &fasthttp.Response{StreamBody: true}
		if err := o.Fetch(context.Background(), newRequest("GET", path), resp, Viewer{Interim: interim}); err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := start("/early-close")
	buf := make([]byte, 1)
	if _, err := resp.BodyStream().Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.CloseBodyStream()
	if st := o.Stats(); st.Conns != 0 {
		t.Errorf("after a stream closed early: Stats %+v, want its connection closed", st)
	}

	resp = start("/stall")
	// The stream is taken before the reader starts: CloseBodyStream clears it from resp.
	stream := resp.BodyStream()
	read := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(stream)
		read <- err
	}()
	// Closed while a Read holds the stream (blocked on the missing "cd", or about to be).
	sb := stream.(*streamBody)
	poll.Until(t, 10*time.Second, "a Read to hold the stream", func() bool {
		if sb.mu.TryLock() {
			sb.mu.Unlock()
			return false
		}
		return true
	})
	resp.CloseBodyStream()
	select {
	case err := <-read:
		if err == nil {
			t.Error("a stream closed mid-read ended without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing the stream did not end the blocked read")
	}
	if st := o.Stats(); st.Conns != 0 {
		t.Errorf("after a stream closed mid-read: Stats %+v, want its connection closed", st)
	}

	resp = start("/whole")
	if body, err := io.ReadAll(resp.BodyStream()); err != nil || string(body) != "abcd" {
		t.Fatalf("body %q, %v", body, err)
	}
	resp.CloseBodyStream()
	if st := o.Stats(); st.Conns != 1 || st.Idle != 1 {
		t.Errorf("after a stream read whole: Stats %+v, want its connection idle", st)
	}
}

// FuzzReadInterims checks the interim reader on any bytes: it hands over only interim
// statuses, consumes whole heads only, and stops at the first head that is not one.
func FuzzReadInterims(f *testing.F) {
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 102 x\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 199\r\n\r\nHTTP/1.1 1x3 Early\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		var got []int
		err := readInterims(br, func(status int, _ *fasthttp.ResponseHeader) { got = append(got, status) })
		for _, st := range got {
			if st < 102 || st > 199 {
				t.Fatalf("handed over status %d", st)
			}
		}
		if err != nil {
			return
		}
		rest, _ := io.ReadAll(br)
		if consumed := data[:len(data)-len(rest)]; len(consumed) > 0 && !bytes.HasSuffix(consumed, []byte("\n")) {
			t.Fatalf("consumed %q, not whole heads", consumed)
		}
		if _, ok := interimStatus(rest); ok {
			t.Fatalf("stopped before an interim head: %q", rest)
		}
	})
}
