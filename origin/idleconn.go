package origin

import (
	"errors"
	"net"
	"syscall"
)

// errIdleBytes is the cause of a fetch that found its pooled connection unusable: the origin
// sent bytes (or closed it) while it was idle. Nothing of the request was sent, so the fetch
// is retried on a fresh connection whatever its method.
var errIdleBytes = errors.New("the origin sent data on an idle connection")

// idleCheckConn is the TCP connection under a pooled client connection. Bytes the origin sends
// while the connection is idle (a body longer than its Content-Length, a response nobody asked
// for) would otherwise be read as the answer to the next request sent on it: one URL's
// response served, and cached, for another. So before the first write of each exchange it
// looks, without blocking or consuming, for anything already waiting, and if something is,
// closes the connection. (fasthttp gives no hook on a connection going idle; net/http's
// Transport and nginx's upstream keepalive make the same check by other means.)
//
// fasthttp uses a connection from one goroutine at a time, so the fields need no lock.
type idleCheckConn struct {
	net.Conn
	raw   syscall.RawConn // nil when the connection cannot be peeked at
	armed bool            // set once the TLS handshake, if any, is done
	read  bool            // read since the last write: the next write starts an exchange
}

func newIdleCheckConn(c net.Conn) *idleCheckConn {
	ic := &idleCheckConn{Conn: c}
	if sc, ok := c.(syscall.Conn); ok {
		ic.raw, _ = sc.SyscallConn()
	}
	return ic
}

func (c *idleCheckConn) Read(b []byte) (int, error) {
	c.read = true
	return c.Conn.Read(b)
}

func (c *idleCheckConn) Write(b []byte) (int, error) {
	if c.armed && c.read {
		c.read = false
		if c.raw != nil && pending(c.raw) {
			_ = c.Conn.Close()
			return 0, errIdleBytes
		}
	}
	return c.Conn.Write(b)
}
