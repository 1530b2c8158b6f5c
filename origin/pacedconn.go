package origin

import (
	"net"
	"time"
)

// pacedConn bounds each read and write on an origin connection by the origin's read timeout,
// as CloudFront's response timeout does: the wait for the response to begin, and then between
// two pieces of it. A body that keeps arriving is thus never cut off, however long it takes
// (a 300 MiB download to a slow viewer streams at the viewer's pace), and one that stalls is.
// A deadline fasthttp sets (a fetch context's, or a buffered fetch's whole-exchange bound)
// still applies when it comes first.
//
// fasthttp uses a connection from one goroutine at a time. A Close from another (a stream
// interrupted) touches no field, except over TLS, where closing sets the write deadline under
// the TLS layer's write lock, which serialises it with Write.
type pacedConn struct {
	net.Conn
	idle   time.Duration
	rd, wd time.Time // the deadlines set through the net.Conn methods; zero: none
}

func (c *pacedConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.bound(c.rd)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *pacedConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.bound(c.wd)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// bound is the deadline of an operation starting now: the idle timeout, or abs if earlier.
func (c *pacedConn) bound(abs time.Time) time.Time {
	t := time.Now().Add(c.idle)
	if !abs.IsZero() && abs.Before(t) {
		return abs
	}
	return t
}

func (c *pacedConn) SetDeadline(t time.Time) error      { c.rd, c.wd = t, t; return nil }
func (c *pacedConn) SetReadDeadline(t time.Time) error  { c.rd = t; return nil }
func (c *pacedConn) SetWriteDeadline(t time.Time) error { c.wd = t; return nil }
