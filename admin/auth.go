package admin

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/vergecdn/verge/loopback"
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
	if loopback.Host(host) {
		return nil
	}
	return fmt.Errorf("admin: the admin address %s is not loopback and no admin token is configured: "+
		"configure a token (admin_tokens, or VERGE_ADMIN_TOKENS) or listen on 127.0.0.1", adminAddr)
}

type whoKey struct{}

// who is the caller Guard authenticated: a token's name, or "local" when no token is
// configured.
func who(ctx context.Context) string {
	if w, ok := ctx.Value(whoKey{}).(string); ok {
		return w
	}
	return "local"
}
