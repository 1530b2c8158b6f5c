package origin

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultReadTimeout      = 30 * time.Second
	DefaultKeepaliveTimeout = 5 * time.Second
	DefaultMaxConns         = 512
	DefaultMaxResponseBytes = 256 << 20 // 256 MiB
	DefaultViaName          = "verge"
)

// readBufferSize bounds the size of an origin's response header section.
// fasthttp's 4 KiB default is too small for origins that send large
// Content-Security-Policy or Set-Cookie headers.
const readBufferSize = 16 << 10

// Config configures one origin. Zero values mean the documented defaults;
// the struct is the configuration reference, so every field says its
// default and units.
type Config struct {
	// ID names the origin in logs, metrics and error strings.
	// Default: the URL's host, with ":port" if not the scheme's default.
	ID string

	// URL is "http://host[:port][/base/path]" or "https://…". The base path
	// is prefixed to every request path; a trailing '/' is trimmed. User
	// info, query and fragment are rejected.
	URL string

	// HostHeader is the Host sent to the origin. Default ("" keeps it):
	// the URL's host, with ":port" if not the scheme's default, as
	// CloudFront does.
	HostHeader string

	// ForwardHost sends the viewer's Host instead of HostHeader (CloudFront's
	// "forward Host header"). When the viewer sent no Host, HostHeader's
	// value is used.
	ForwardHost bool

	// ConnectTimeout bounds the TCP connect and, for https, the TLS
	// handshake. Default 5s (CloudFront allows at most 10s).
	ConnectTimeout time.Duration

	// ReadTimeout bounds the wait for the response once the request has been
	// sent, and then between two reads of it (CloudFront's response timeout);
	// a buffered fetch is also bounded as a whole by ConnectTimeout plus
	// ReadTimeout. Default 30s.
	ReadTimeout time.Duration

	// KeepaliveTimeout is how long an idle keep-alive connection is kept
	// open for reuse. Default 5s.
	KeepaliveTimeout time.Duration

	// MaxConns caps the open connections to this origin. A fetch that finds
	// all of them busy waits up to ConnectTimeout for one. Default 512.
	MaxConns int

	// MaxResponseBytes caps a response body, in bytes; a larger body fails
	// the fetch with Kind TooLarge (502). Default 256 MiB.
	MaxResponseBytes int

	// ViaName is this node's pseudonym in Via ("1.1 verge") and in loop
	// detection: a request whose Via already names it is refused. Nodes
	// that forward to each other (tiers) need distinct names. Default "verge".
	ViaName string

	// TLSInsecureSkipVerify disables verification of the origin's
	// certificate. For tests and lab setups only. Default false.
	TLSInsecureSkipVerify bool

	// RootCAs are the authorities an https origin's certificate must chain
	// to. Default nil: the system's roots.
	RootCAs *x509.CertPool
}

// endpoint is what New derives from Config.URL.
type endpoint struct {
	tls        bool   // scheme is https
	scheme     string // "http" or "https"
	serverName string // host without port or brackets, for TLS
	addr       string // host:port to dial
	host       string // host[:port] as written in the URL, the default Host
	basePath   string // "" or "/a/b", no trailing '/'
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.KeepaliveTimeout == 0 {
		c.KeepaliveTimeout = DefaultKeepaliveTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.ViaName == "" {
		c.ViaName = DefaultViaName
	}
	return c
}

// validate checks c (after withDefaults) and parses its URL. Errors are
// prefixed "origin: ".
func (c Config) validate() (endpoint, error) {
	var ep endpoint
	if c.URL == "" {
		return ep, errors.New("origin: URL is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return ep, fmt.Errorf("origin: bad URL %q: %w", c.URL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		ep.scheme = "http"
	case "https":
		ep.scheme, ep.tls = "https", true
	default:
		return ep, fmt.Errorf("origin: URL %q: scheme must be http or https", c.URL)
	}
	if u.Hostname() == "" {
		return ep, fmt.Errorf("origin: URL %q has no host", c.URL)
	}
	if u.User != nil {
		return ep, fmt.Errorf("origin: URL %q must not contain user info", c.URL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return ep, fmt.Errorf("origin: URL %q must not contain a query or fragment", c.URL)
	}
	defaultPort := "80"
	if ep.tls {
		defaultPort = "443"
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return ep, fmt.Errorf("origin: URL %q: bad port %q", c.URL, port)
	}
	ep.serverName = u.Hostname()
	ep.addr = net.JoinHostPort(ep.serverName, port)
	ep.host = ep.serverName // host[:port], the port only if not the default
	if strings.Contains(ep.host, ":") {
		ep.host = "[" + ep.host + "]"
	}
	if port != defaultPort {
		ep.host += ":" + port
	}
	ep.basePath = strings.TrimRight(u.EscapedPath(), "/")

	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ConnectTimeout", c.ConnectTimeout},
		{"ReadTimeout", c.ReadTimeout},
		{"KeepaliveTimeout", c.KeepaliveTimeout},
	} {
		if d.v < 0 {
			return ep, fmt.Errorf("origin: %s must be ≥ 0, got %v", d.name, d.v)
		}
	}
	if c.MaxConns < 0 {
		return ep, fmt.Errorf("origin: MaxConns must be ≥ 0, got %d", c.MaxConns)
	}
	if c.MaxResponseBytes < 0 {
		return ep, fmt.Errorf("origin: MaxResponseBytes must be ≥ 0, got %d", c.MaxResponseBytes)
	}
	if !isToken(c.ViaName) {
		return ep, fmt.Errorf("origin: ViaName %q must be a single token (letters, digits, -._~)", c.ViaName)
	}
	if strings.ContainsFunc(c.HostHeader, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return ep, fmt.Errorf("origin: HostHeader %q contains spaces or control characters", c.HostHeader)
	}
	return ep, nil
}

// isToken reports whether s is a non-empty run of the characters this
// package accepts in a Via pseudonym (a subset of RFC 9110 tchar).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}
