package cache

import "strings"

// A targeted cache-control field such as CDN-Cache-Control is a Structured Field Dictionary
// (RFC 9213 2.1, RFC 8941 3.2), and a cache must ignore one it cannot parse as such, as if it
// were absent: Cache-Control then applies. validTargeted says whether one field line parses,
// and whether each delta-seconds directive in it (max-age, s-maxage, stale-while-revalidate,
// stale-if-error) is an Integer, as RFC 9213 defines them: "max-age=\"60\"" is no max-age of
// 60, and a field whose directives cannot be read does not stand in for Cache-Control. It
// does not allocate.
func validTargeted(v string) bool {
	p := sfParser{s: strings.Trim(v, " ")}
	if p.s == "" {
		return false // an empty field is ignored too
	}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		kind := sfBoolean // a bare key is the Boolean true
		if p.eat('=') {
			if p.peek() == '(' {
				if !p.innerList() {
					return false
				}
				kind = sfInnerList
			} else if kind, ok = p.bareItem(); !ok {
				return false
			}
		}
		if !p.parameters() {
			return false
		}
		switch key {
		case "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error":
			if kind != sfInteger {
				return false
			}
		}
		p.ows()
		if p.done() {
			return true
		}
		if !p.eat(',') {
			return false
		}
		p.ows()
		if p.done() {
			return false // a trailing comma
		}
	}
}

// sfKind is the type of a Structured Field member value.
type sfKind uint8

const (
	sfInteger sfKind = iota
	sfDecimal
	sfString
	sfToken
	sfBinary
	sfBoolean
	sfInnerList
)

// sfParser reads a Structured Field from s, at i.
type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) eat(c byte) bool {
	if p.peek() == c && !p.done() {
		p.i++
		return true
	}
	return false
}

func (p *sfParser) ows() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) spaces() {
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
}

// key reads a key: lcalpha or "*", then lcalpha, DIGIT, "_", "-", "." or "*".
func (p *sfParser) key() (string, bool) {
	start := p.i
	if c := p.peek(); !(c >= 'a' && c <= 'z' || c == '*') {
		return "", false
	}
	p.i++
	for !p.done() {
		c := p.s[p.i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], true
}

// parameters reads any number of ";" key [ "=" bare-item ].
func (p *sfParser) parameters() bool {
	for p.eat(';') {
		p.spaces()
		if _, ok := p.key(); !ok {
			return false
		}
		if p.eat('=') {
			if _, ok := p.bareItem(); !ok {
				return false
			}
		}
	}
	return true
}

// innerList reads "(" items separated by spaces ")" and its parameters.
func (p *sfParser) innerList() bool {
	p.i++ // "("
	for {
		p.spaces()
		if p.eat(')') {
			return true
		}
		if _, ok := p.bareItem(); !ok || !p.parameters() {
			return false
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
}

// bareItem reads an Integer, Decimal, String, Token, Byte Sequence or Boolean.
func (p *sfParser) bareItem() (sfKind, bool) {
	switch c := p.peek(); {
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == '"':
		return sfString, p.str()
	case c == ':':
		return sfBinary, p.binary()
	case c == '?':
		p.i++
		return sfBoolean, p.eat('0') || p.eat('1')
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*':
		p.i++
		for !p.done() && (isTChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		return sfToken, true
	}
	return 0, false
}

// number reads an Integer (up to 15 digits) or a Decimal (up to 12 digits, ".", 1 to 3).
func (p *sfParser) number() (sfKind, bool) {
	p.eat('-')
	start := p.i
	for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	whole := p.i - start
	if whole == 0 {
		return 0, false
	}
	if !p.eat('.') {
		return sfInteger, whole <= 15
	}
	start = p.i
	for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	frac := p.i - start
	return sfDecimal, whole <= 12 && frac >= 1 && frac <= 3
}

// str reads a String: printable ASCII between double quotes, with \" and \\ escaped.
func (p *sfParser) str() bool {
	p.i++
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return true
		case c == '\\':
			if p.done() || p.s[p.i] != '"' && p.s[p.i] != '\\' {
				return false
			}
			p.i++
		case c < 0x20 || c > 0x7e:
			return false
		}
	}
	return false
}

// binary reads a Byte Sequence: base64 characters between colons.
func (p *sfParser) binary() bool {
	p.i++
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == ':':
			return true
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return false
}
