package registry

import (
	"strconv"
	"strings"

	"github.com/vergecdn/verge/hooks"
)

// ValidName reports whether s is a valid function name: 1 to 64 letters, digits, '-' or '_'
// (Lambda's rule).
func ValidName(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && allWord(s)
}

// ValidAliasName reports whether s is a valid alias: 1 to 128 letters, digits, '-' or '_',
// not all digits (that would read as a version number).
func ValidAliasName(s string) bool {
	if len(s) < 1 || len(s) > 128 || !allWord(s) {
		return false
	}
	_, err := strconv.Atoi(s)
	return err != nil
}

func allWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ParseRef splits "NAME[:QUALIFIER]" as the CLI takes it. The qualifier is Latest when absent;
// otherwise a version number (no sign, no leading zero), an alias name or "$LATEST".
func ParseRef(ref string) (name, qualifier string, err error) {
	name, qualifier, found := strings.Cut(ref, ":")
	if !ValidName(name) {
		return "", "", invalid("function name %q: want 1-64 letters, digits, '-' or '_'", name)
	}
	if !found {
		return name, Latest, nil
	}
	if !ValidQualifier(qualifier) {
		return "", "", invalid("qualifier %q: want a version number, an alias or $LATEST", qualifier)
	}
	return name, qualifier, nil
}

// ValidQualifier reports whether q is Latest, a version number or an alias name.
func ValidQualifier(q string) bool {
	_, isNum := VersionNumber(q)
	return q == Latest || isNum || ValidAliasName(q)
}

// VersionNumber parses a canonical positive version number ("7", not "07" or "+7").
func VersionNumber(q string) (int, bool) {
	if q == "" || len(q) > 9 || q[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(q)
	return n, err == nil
}

// NormalizeBehavior maps the configuration's "*" to DefaultBehavior and checks the pattern.
func NormalizeBehavior(b string) (string, error) {
	switch {
	case b == "*" || b == DefaultBehavior:
		return DefaultBehavior, nil
	case b == "" || len(b) > 1024 || strings.ContainsAny(b, "\x00\n\r"):
		return "", invalid("behavior %q: want a path pattern or %q", b, DefaultBehavior)
	}
	return b, nil
}

// ParseEvent checks an event type name ("viewer-request", ...).
func ParseEvent(e string) (hooks.Stage, error) {
	s, err := hooks.ParseStage(e)
	if err != nil {
		return 0, invalid("event %q: want viewer-request, origin-request, origin-response or viewer-response", e)
	}
	return s, nil
}
