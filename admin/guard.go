package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vergecdn/verge/loopback"
)

// GuardOptions configure Guard.
type GuardOptions struct {
	// Tokens are the admin tokens. With none, calls need no token (CheckExposure then keeps
	// the admin address on loopback) and state-changing calls must not have a Content-Type a
	// browser may send cross-site without asking (text/plain, forms).
	Tokens []Token
	// Listen is the admin listen address (host:port); its host is accepted in Host and Origin.
	Listen string
	// Hosts are the configuration's admin_hosts: more names accepted in Host and Origin (see
	// ParseHosts). "*" accepts any Host, which switches the DNS rebinding check off.
	Hosts []string
	// MetricsAuth makes GET /metrics need a token, like every other route. Default: /metrics
	// needs none (but still the right Host).
	MetricsAuth bool
	// PeerToken, when not empty, is the fleet's credential: it is accepted as a bearer token
	// for GET requests under PeerPath (the route peers fetch code blobs from) and nowhere
	// else. It is never an admin token.
	PeerToken string
	// PeerPath is the path prefix PeerToken opens ("/v1/blobs/").
	PeerPath string
	// Open are paths (exact) that GET and HEAD reach without a token, still behind the Host
	// and browser checks: what they answer must be no secret, as anyone who reaches the port
	// reads it. `verge fn alias --wait` asks every member of a fleet there, so that no admin
	// token is ever sent to an address a peer advertised.
	Open []string
}

// unguarded reports whether a request may skip the guard: GET or HEAD /healthz and /readyz say
// whether the process lives and takes traffic, nothing more, and load balancers ask them under
// names of their own.
func unguarded(r *http.Request) bool {
	path, plain := plainPath(r)
	return plain && (path == "/healthz" || path == "/readyz") && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

var _ http.Handler = (*guard)(nil)

// guard is the admin port's only door; see Guard.
type guard struct {
	o      GuardOptions
	hosts  map[string]bool // lower case, no trailing dot
	any    bool            // "*": any Host
	tokens []tokenHash
	peer   *[sha256.Size]byte
	next   http.Handler
}

type tokenHash struct {
	name string
	sum  [sha256.Size]byte
}

// Guard returns the wrapper for everything the admin port serves, to be applied once around
// its whole handler (edge.Deps.AdminGuard), so that no route can be mounted beside it. In
// order, for every request but GET and HEAD /healthz and /readyz:
//
//  1. DNS rebinding: the Host must be an IP literal (a name is what rebinding needs), a
//     loopback name, the admin address's host or one of Hosts; else 421.
//  2. Browsers: a request whose Origin is not one of those names (IP literals other than
//     loopback are not accepted here: a page on another machine is another site), or whose
//     Sec-Fetch-Site is cross-site or same-site, is refused with 403, whatever its method.
//     With no token configured, a state-changing request (not GET, HEAD or OPTIONS) with a
//     "simple" Content-Type (text/plain, application/x-www-form-urlencoded,
//     multipart/form-data), which a page may send cross-site without a preflight, is
//     refused too.
//  3. Tokens: with tokens configured, "Authorization: Bearer SECRET" must match one (401
//     otherwise), compared in constant time over fixed-length hashes; the fleet credential
//     opens GET PeerPath... only, and GET or HEAD of an Open path needs none ("anyone").
//     The caller's name (a token's name, "local" with no token,
//     "fleet" for a peer) is what the audit log records.
func Guard(o GuardOptions) (func(http.Handler) http.Handler, error) {
	hosts, err := ParseHosts(o.Hosts)
	if err != nil {
		return nil, err
	}
	g := guard{o: o, hosts: map[string]bool{}}
	for _, h := range hosts {
		if h == "*" {
			g.any = true
		}
		g.hosts[h] = true
	}
	if host, _, err := net.SplitHostPort(o.Listen); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			g.hosts[canonicalHost(host)] = true
		}
	}
	for _, t := range o.Tokens {
		if t.Secret == "" {
			return nil, fmt.Errorf("admin: token %q has an empty secret", t.Name)
		}
		g.tokens = append(g.tokens, tokenHash{name: t.Name, sum: sha256.Sum256([]byte(t.Secret))})
		if o.PeerToken != "" && subtle.ConstantTimeCompare([]byte(t.Secret), []byte(o.PeerToken)) == 1 {
			return nil, fmt.Errorf("admin: the fleet credential is the admin token %q: peers would hold an admin token; give the fleet its own (cluster.secret_key)", t.Name)
		}
	}
	if o.PeerToken != "" {
		if o.PeerPath == "" || !strings.HasPrefix(o.PeerPath, "/") {
			return nil, fmt.Errorf("admin: a fleet credential needs the path it opens, got %q", o.PeerPath)
		}
		sum := sha256.Sum256([]byte(o.PeerToken))
		g.peer = &sum
	}
	return func(next http.Handler) http.Handler {
		gg := g
		gg.next = next
		return &gg
	}, nil
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if unguarded(r) {
		g.next.ServeHTTP(w, r)
		return
	}
	if !g.hostAllowed(r.Host) {
		writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("admin: Host %q is not a name of this admin API: "+
			"add it to admin_hosts if it is one (names are checked against DNS rebinding)", r.Host))
		return
	}
	if why := g.browserRefusal(r); why != "" {
		writeError(w, http.StatusForbidden, "admin: "+why)
		return
	}
	who, ok := g.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="verge"`)
		writeError(w, http.StatusUnauthorized, "admin: a valid bearer token is required")
		return
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, who)))
}

// hostAllowed is step 1 of Guard.
func (g *guard) hostAllowed(hostport string) bool {
	if g.any {
		return true
	}
	host := canonicalHost(hostport)
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = canonicalHost(h)
	}
	if host == "" {
		return false
	}
	return net.ParseIP(host) != nil || loopback.Host(host) || g.hosts[host]
}

// browserRefusal is step 2 of Guard: why the request is refused, or "".
func (g *guard) browserRefusal(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return "a request from a web page of another site (Sec-Fetch-Site: " + site + ") is refused"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return "a request from an opaque origin (Origin: " + o + ") is refused"
		}
		if h := canonicalHost(u.Hostname()); !loopback.Host(h) && !g.hosts[h] {
			return "a cross-origin request (Origin: " + o + ") is refused; add the host to admin_hosts if that page is yours"
		}
	}
	if len(g.tokens) == 0 && changesState(r.Method) && simpleContentType(r.Header.Get("Content-Type")) {
		return "with no admin token configured, a " + r.Method + " with Content-Type " + r.Header.Get("Content-Type") +
			" (which a web page may send to another site) is refused: send application/json"
	}
	return ""
}

// plainPath returns r's path and whether it came without escapes. The exceptions to the
// guard (health) and to the token (metrics, open paths, the peer prefix) match only a plain
// path: the router matches the escaped one, so a decoded comparison would let
// /v1/cluster%2Fsync through tokenless to whatever route (a wildcard, one day) its escaped
// form reaches.
func plainPath(r *http.Request) (string, bool) {
	return r.URL.Path, r.URL.RawPath == ""
}

// authenticate is step 3 of Guard: who calls, and whether they may.
func (g *guard) authenticate(r *http.Request) (string, bool) {
	if len(g.tokens) == 0 {
		return "local", true
	}
	path, plain := plainPath(r)
	if plain && path == "/metrics" && !g.o.MetricsAuth {
		return "metrics", true
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && plain && slices.Contains(g.o.Open, path) {
		return "anyone", true
	}
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	who, found := "", 0
	for _, t := range g.tokens { // no early exit: every token is compared
		if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
			who, found = t.name, 1
		}
	}
	if found == 1 {
		return who, true
	}
	if g.peer != nil && subtle.ConstantTimeCompare(sum[:], g.peer[:]) == 1 &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) && plain && strings.HasPrefix(path, g.o.PeerPath) {
		return "fleet", true
	}
	return "", false
}

// changesState reports whether a request with this method may change something.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// simpleContentType reports whether ct is one of the Content-Types the Fetch standard lets a
// page send to another origin without a preflight.
func simpleContentType(ct string) bool {
	essence, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(essence)) {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

// canonicalHost lower-cases a host and drops the brackets of an IPv6 literal and the root's
// trailing dot, so that equal names compare equal.
func canonicalHost(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// ParseHosts checks the configuration's admin_hosts and returns them canonical: each a DNS
// name, an IP address or "*" (any host), without scheme, port or path.
func ParseHosts(hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for i, h := range hosts {
		c := canonicalHost(strings.TrimSpace(h))
		if c == "*" || net.ParseIP(c) != nil {
			out = append(out, c)
			continue
		}
		if !validName(c) {
			return nil, fmt.Errorf("admin: admin_hosts[%d] %q: want a host name or IP address, without scheme or port", i, h)
		}
		out = append(out, c)
	}
	return out, nil
}

// validName reports whether s is a DNS name: dot-separated labels of letters, digits, '-' and
// '_', each 1 to 63 bytes, 253 bytes in all.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
