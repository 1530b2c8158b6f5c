// Package loopback answers one question for every package that guards something by address:
// does a host name this machine's loopback interface? The admin API's exposure check and its
// Host guard, the edge's profiler and the fleet's gossip checks all ask it here, so that they
// never disagree about what "local" means.
package loopback

import (
	"net"
	"strings"
)

// Host reports whether host is "localhost" (any case, with or without the root's trailing
// dot), an IPv4 address in 127.0.0.0/8 or the IPv6 loopback ::1, bracketed or not. It does
// not resolve names: "foo.localhost" and names that resolve to 127.0.0.1 are not loopback,
// since what they resolve to is up to a resolver, not to us.
func Host(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr reports whether addr, a host:port or a bare host, names a loopback host (see Host).
// An address with an empty host (":8081") listens on every interface: not loopback.
func Addr(addr string) bool {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return Host(host)
	}
	return Host(addr)
}
