// Package hostname holds the one rule by which Verge names a site: a host is lower case,
// without its scheme's default port and without the trailing dot of a fully qualified name,
// so "Example.com.:80" and "example.com" are one site. The edge applies it to every request
// (routing, cache key, forwarded Host) and the cache to a purge's --host, so the two agree.
package hostname

import "bytes"

// Trim returns host without the default port defPort (":80" or ":443"; an empty port counts as
// the default one too) and without trailing dots, as a prefix of host. It does not change
// case. An IPv6 literal keeps its brackets; a port that is not the default stays.
func Trim(host []byte, defPort string) []byte {
	n := len(host)
	for prev := -1; n != prev; { // "a.:80." and ":." take more than one round
		prev = n
		for _, port := range [...]string{defPort, ":"} {
			if name, ok := bytes.CutSuffix(host[:n], []byte(port)); ok && (bytes.IndexByte(name, ':') < 0 || bytes.HasSuffix(name, []byte("]"))) {
				n = len(name)
				break
			}
		}
		for n > 1 && host[n-1] == '.' {
			n--
		}
	}
	return host[:n]
}
