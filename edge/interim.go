package edge

import (
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/origin"
)

// interimWriter returns what passes an origin's interim (1xx) responses on to the viewer of
// ctx as they arrive (RFC 9110 15.2), or nil when none may be sent:
//
//   - to an HTTP/1.0 viewer, which must not get one;
//   - on any request but a connection's first. fasthttp's server keeps a response to a
//     pipelined request in its buffered writer until the next is read, and a handler can
//     neither see nor flush that writer: an interim response written on the connection would
//     overtake that response, or land inside one written in part. Only on a connection's
//     first request is the writer known to be empty. Interim responses are hints the final
//     response does not depend on, so dropping them is safe where sending them is not;
//   - to a request no viewer waits for (a background refresh, whose context has no
//     connection and counts no requests).
func interimWriter(ctx *fasthttp.RequestCtx) origin.Interim {
	if ctx.ConnRequestNum() != 1 || !ctx.Request.Header.IsHTTP11() {
		return nil
	}
	conn := ctx.Conn()
	failed := false
	return func(status int, h *fasthttp.ResponseHeader) {
		if failed {
			return
		}
		if _, err := conn.Write(appendInterim(nil, status, h)); err != nil {
			// Part of it may have gone out (a write deadline cut it): the final response
			// would follow inside it. Nothing more may be written on this connection.
			failed = true
			_ = conn.Close()
		}
	}
}

// appendInterim appends the HTTP/1.1 form of an interim response: its status, its origin's
// reason phrase (or the standard one), and its fields as they came.
func appendInterim(b []byte, status int, h *fasthttp.ResponseHeader) []byte {
	reason := h.StatusMessage()
	if len(reason) == 0 {
		reason = []byte(fasthttp.StatusMessage(status))
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(append(append(b, ' '), reason...), "\r\n"...)
	for k, v := range h.All() {
		b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
	}
	return append(b, "\r\n"...)
}
