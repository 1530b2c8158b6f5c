package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/cache"
)

// A hit is served with the Date the origin gave the object, which its Age counts from
// (RFC 9110 6.6.1, RFC 9111 4.2.3); every other answer gets the time it is made, which
// fasthttp writes. fasthttp writes its own Date, and drops any other, unless the response
// header's private noDefaultDate flag is set, and its setters ignore Date altogether. Only the
// server sets the flag (on the responses it hands a handler, when configured so) and CopyTo
// carries it; only parsing puts a Date line in a header. So a stored object's encoded header
// (wireHeader) is parsed from its lines into a copy of a header that has the flag, which
// undatedHeader gets from a fasthttp server, once per node, and a hit copies both onto its
// response.

// undatedHeader returns an empty response header on which fasthttp writes no Date of its own.
// It asks a fasthttp server configured so for one, over an in-memory connection.
func undatedHeader() (*fasthttp.ResponseHeader, error) {
	h := new(fasthttp.ResponseHeader)
	got := false
	srv := &fasthttp.Server{NoDefaultDate: true, Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.CopyTo(h)
		got = true
	}}
	c, peer := net.Pipe()
	go func() {
		_, _ = io.WriteString(peer, "GET / HTTP/1.1\r\nHost: verge\r\nConnection: close\r\n\r\n")
		_, _ = io.Copy(io.Discard, peer)
		peer.Close()
	}()
	err := srv.ServeConn(c)
	c.Close()
	if err != nil || !got {
		return nil, fmt.Errorf("edge: a response header without fasthttp's Date: %v", err)
	}
	return h, nil
}

// parseInto sets h, a copy of an undatedHeader, to status and headers by parsing them as a
// response head, the one way a Date line gets into a fasthttp header. It fails if a line does
// not parse (a value a function set with a control character, say).
func parseInto(h *fasthttp.ResponseHeader, status int, headers []cache.Header) error {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 ")
	b.WriteString(strconv.Itoa(status))
	b.WriteString(" \r\n")
	for _, kv := range headers {
		if strings.ContainsAny(kv.Name, "\r\n:") || strings.ContainsAny(kv.Value, "\r\n") {
			return fmt.Errorf("edge: header %q does not fit on a line", kv.Name)
		}
		b.WriteString(kv.Name)
		b.WriteString(": ")
		b.WriteString(kv.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	if err := h.Read(bufio.NewReaderSize(&b, b.Len())); err != nil {
		return fmt.Errorf("edge: stored header: %w", err)
	}
	h.SetStatusCode(status) // no reason phrase was given: fasthttp's own for the status
	return nil
}

// withDate returns hs with a Date of t appended when it has none: a recipient that caches or
// forwards a response without Date must add one (RFC 9110 6.6.1).
func withDate(hs []cache.Header, t time.Time) []cache.Header {
	for i := range hs {
		if strings.EqualFold(hs[i].Name, "Date") {
			return hs
		}
	}
	return append(hs, cache.Header{Name: "Date", Value: string(fasthttp.AppendHTTPDate(nil, t))})
}
