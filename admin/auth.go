package admin

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Token is an admin API credential: Name is what the audit log records as "who".
type Token struct {
	Name, Secret string
}

// ParseTokens reads tokens as configuration or VERGE_ADMIN_TOKENS give them: a comma
// separated list of NAME=SECRET or bare SECRET (named "token", "token2", ...).
func ParseTokens(s string) ([]Token, error) {
	var out []Token
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, secret, ok := strings.Cut(f, "=")
		if !ok {
			name, secret = "token", f
			if i > 0 {
				name = fmt.Sprintf("token%d", i+1)
			}
		}
		if name == "" || secret == "" {
			return nil, fmt.Errorf("admin: token %d: want NAME=SECRET or SECRET", i+1)
		}
		out = append(out, Token{Name: name, Secret: secret})
	}
	return out, nil
}

// CheckExposure refuses to serve the admin API on a non-loopback address without a token:
// with no token the API is open to whoever can reach it, so it must listen on loopback only
// (as Caddy's does). An address with an empty host (":8081") listens on every interface.
func CheckExposure(adminAddr string, tokens []string) error {
	for _, t := range tokens {
		if t != "" {
			return nil
		}
	}
	host, _, err := net.SplitHostPort(adminAddr)
	if err != nil {
		return fmt.Errorf("admin: admin address %q: %w", adminAddr, err)
	}
	if isLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("admin: the admin address %s is not loopback and no admin token is configured: "+
		"configure a token (admin_tokens, or VERGE_ADMIN_TOKENS) or listen on 127.0.0.1", adminAddr)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type whoKey struct{}

// who is the authenticated caller: a token's name, or "local" when no token is configured.
func who(ctx context.Context) string {
	if w, ok := ctx.Value(whoKey{}).(string); ok {
		return w
	}
	return "local"
}

// authenticate wraps next with DESIGN.md's rule: with tokens configured every call needs
// "Authorization: Bearer TOKEN" (401 otherwise); with none, calls need no token, but a
// browser request from a non-loopback page (its Origin header) is refused, so that a web
// page cannot drive a local admin API.
func authenticate(tokens []Token, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(tokens) == 0 {
			if o := r.Header.Get("Origin"); o != "" {
				u, err := url.Parse(o)
				if err != nil || !isLoopbackHost(u.Hostname()) {
					writeError(w, http.StatusForbidden, "admin: cross-origin request refused")
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, "local")))
			return
		}
		scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") && secret != "" {
			for _, t := range tokens {
				if subtle.ConstantTimeCompare([]byte(secret), []byte(t.Secret)) == 1 {
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, t.Name)))
					return
				}
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="verge"`)
		writeError(w, http.StatusUnauthorized, "admin: a valid bearer token is required")
	})
}
