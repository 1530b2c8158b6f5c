package origin

import (
	"container/list"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// DefaultSetMax is the size of a Set when NewSet is given max ≤ 0.
const DefaultSetMax = 64

// Set hands out shared Origins for ad-hoc origins, such as the custom
// origin a Lambda@Edge origin-request function may switch a request to.
// It keeps at most max of them and evicts (and closes) the least recently
// used. It is safe for concurrent use.
type Set struct {
	defaults Config
	max      int

	mu      sync.Mutex
	byKey   map[setKey]*list.Element // of *setEntry
	recency *list.List               // front: most recently used
}

type setKey struct {
	scheme, host string
	port         int
	basePath     string
}

type setEntry struct {
	key    setKey
	origin *Origin
}

// NewSet returns an empty Set. Origins it creates use defaults for every
// field but URL, ID and HostHeader, which take their defaults (the origin's
// host, with ":port" if not the scheme's default). max bounds the number of
// Origins kept; ≤ 0 means DefaultSetMax. The defaults are validated on the
// first Get.
func NewSet(defaults Config, max int) *Set {
	if max <= 0 {
		max = DefaultSetMax
	}
	defaults.URL, defaults.ID, defaults.HostHeader = "", "", ""
	return &Set{defaults: defaults, max: max, byKey: make(map[setKey]*list.Element), recency: list.New()}
}

// Get returns the Origin for scheme://host:port/basePath, creating it on
// first use. scheme is "http" or "https" (any case); port 0 means the
// scheme's default; basePath is "" or starts with '/' (a trailing '/' is
// ignored). Callers may keep using an Origin after it was evicted (it is
// closed, so it no longer keeps connections alive). Errors are prefixed
// "origin: ".
func (s *Set) Get(scheme, host string, port int, basePath string) (*Origin, error) {
	k := setKey{scheme: strings.ToLower(scheme), host: strings.ToLower(host), port: port,
		basePath: strings.TrimRight(basePath, "/")}
	if k.port == 0 {
		switch k.scheme {
		case "http":
			k.port = 80
		case "https":
			k.port = 443
		}
	}
	if k.host == "" || strings.ContainsAny(k.host, "/?#@ ") {
		return nil, fmt.Errorf("origin: bad host %q", host)
	}
	if k.port < 1 || k.port > 65535 {
		return nil, fmt.Errorf("origin: bad port %d", port)
	}
	if k.basePath != "" && k.basePath[0] != '/' {
		return nil, fmt.Errorf("origin: base path %q must start with '/'", basePath)
	}

	s.mu.Lock()
	if e, ok := s.byKey[k]; ok {
		s.recency.MoveToFront(e)
		s.mu.Unlock()
		return e.Value.(*setEntry).origin, nil
	}
	cfg := s.defaults
	cfg.URL = k.scheme + "://" + net.JoinHostPort(strings.Trim(k.host, "[]"), strconv.Itoa(k.port)) + k.basePath
	o, err := New(cfg) // cheap: no I/O
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.byKey[k] = s.recency.PushFront(&setEntry{key: k, origin: o})
	var evicted []*Origin
	for s.recency.Len() > s.max {
		last := s.recency.Back()
		ent := s.recency.Remove(last).(*setEntry)
		delete(s.byKey, ent.key)
		evicted = append(evicted, ent.origin)
	}
	s.mu.Unlock()

	for _, old := range evicted {
		old.Close()
	}
	return o, nil
}

// Len returns the number of Origins the Set holds.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recency.Len()
}

// Close closes and forgets every Origin in the Set. The Set stays usable.
func (s *Set) Close() {
	s.mu.Lock()
	var all []*Origin
	for e := s.recency.Front(); e != nil; e = e.Next() {
		all = append(all, e.Value.(*setEntry).origin)
	}
	s.byKey = make(map[setKey]*list.Element)
	s.recency.Init()
	s.mu.Unlock()
	for _, o := range all {
		o.Close()
	}
}
