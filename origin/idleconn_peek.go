//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package origin

import "syscall"

// pending reports whether the socket has bytes to read, or was closed or reset by the peer,
// without blocking and without consuming anything.
func pending(raw syscall.RawConn) bool {
	var buf [1]byte
	var err error
	if cerr := raw.Read(func(fd uintptr) bool {
		_, _, err = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait for readiness
	}); cerr != nil {
		return true
	}
	switch {
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		return false // nothing waiting: the connection is clean
	case err != nil:
		return true // reset or otherwise broken
	default:
		return true // n > 0: unsolicited bytes; n == 0: the origin closed it
	}
}
