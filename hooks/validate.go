package hooks

import "strings"

// Validate checks a function's result against CloudFront's rules for the event it was given
// (docs/hooks.md). It returns nil or an *Error of kind Validation
// whose message says what was wrong, in the words a developer needs to fix it.
//
// Validate reads in and res and changes neither. lim must have its defaults filled in. in must
// hold no disallowed header (IsDisallowed), as Function's contract has the caller strip them:
// header lines a function passes through unchanged are not checked again.
func Validate(d Dialect, in *Event, res Result, lim Limits) error {
	s := in.Stage
	if s.IsRequest() {
		switch {
		case res.Request == nil && res.Response == nil:
			return Errorf(Validation, "%s: the function returned no request or response", s)
		case res.Request != nil && res.Response != nil:
			return Errorf(Validation, "%s: the function returned both a request and a response", s)
		case res.Response != nil:
			return validateGenerated(d, s, res.Response, lim)
		default:
			return validateRequest(d, s, in.Request, res.Request, lim)
		}
	}
	if res.Response == nil {
		return Errorf(Validation, "%s: the function returned no response", s)
	}
	return validateResponse(d, s, in.Response, res.Response, lim)
}

func validateGenerated(d Dialect, s Stage, r *Response, lim Limits) error {
	if err := checkStatus(s, r.Status); err != nil {
		return err
	}
	if s == ViewerRequest && r.Status == 204 && len(r.Body) > 0 {
		return Errorf(Validation, "%s: a generated 204 response must not have a body", s)
	}
	if err := checkHeaders(s, r.Headers); err != nil {
		return err
	}
	if n := r.Headers.Size() + len(r.Body); n > lim.GeneratedResponseBytes {
		return Errorf(Validation, "%s: the generated response is %d bytes, over the limit of %d", s, n, lim.GeneratedResponseBytes)
	}
	return nil
}

func validateRequest(d Dialect, s Stage, in, out *Request, lim Limits) error {
	if out.Method != in.Method {
		return Errorf(Validation, "%s: method is read-only (changed %q to %q)", s, in.Method, out.Method)
	}
	if !strings.HasPrefix(out.URI, "/") {
		return Errorf(Validation, "%s: uri must start with '/' (got %q)", s, out.URI)
	}
	if i := strings.IndexFunc(out.URI, isCTLOrSpace); i >= 0 {
		return Errorf(Validation, "%s: uri has a space or control character at byte %d", s, i)
	}
	if i := strings.IndexFunc(out.QueryString, func(r rune) bool { return isCTLOrSpace(r) || r == '#' }); i >= 0 {
		return Errorf(Validation, "%s: querystring has a space, control character or '#' at byte %d", s, i)
	}
	if !URIFits(len(out.URI), len(out.QueryString)) {
		return Errorf(Validation, "%s: uri and querystring are %d bytes, the limit is %d", s, len(out.URI)+len(out.QueryString), MaxURIBytes-1)
	}
	if err := checkHeaderChanges(d, s, in.Headers, out.Headers); err != nil {
		return err
	}
	if s == ViewerRequest && out.Origin != nil {
		return Errorf(Validation, "%s: origin can only be set in origin-request", s)
	}
	switch {
	case out.Origin != nil && !out.Origin.SameEndpoint(in.Origin):
		// A switched origin must be one CloudFront would accept; the configured one, passed
		// back unchanged, is the operator's business (it may use ports or timeouts a
		// function could not set).
		if err := checkOrigin(s, out.Origin, out.Headers); err != nil {
			return err
		}
	case out.Origin != nil:
		if err := checkCustomHeaders(s, out.Origin.CustomHeaders(), out.Headers); err != nil {
			return err
		}
	}
	if out.Body != nil && out.Body.Replace && len(out.Body.Data) > lim.BodyBytes {
		return Errorf(Validation, "%s: the replaced body is %d bytes, over the limit of %d", s, len(out.Body.Data), lim.BodyBytes)
	}
	return nil
}

func validateResponse(d Dialect, s Stage, in, out *Response, lim Limits) error {
	if err := checkStatus(s, out.Status); err != nil {
		return err
	}
	if s == ViewerResponse && d == LambdaEdge && out.Status != in.Status {
		return Errorf(Validation, "%s: status is read-only in viewer-response (changed %d to %d)", s, in.Status, out.Status)
	}
	if err := checkHeaderChanges(d, s, in.Headers, out.Headers); err != nil {
		return err
	}
	if out.BodySet {
		if n := out.Headers.Size() + len(out.Body); n > lim.GeneratedResponseBytes {
			return Errorf(Validation, "%s: the replaced response is %d bytes, over the limit of %d", s, n, lim.GeneratedResponseBytes)
		}
	}
	return nil
}

func checkStatus(s Stage, status int) error {
	if status < 200 || status > 599 {
		return Errorf(Validation, "%s: status %d is outside 200-599", s, status)
	}
	return nil
}

// checkHeaderChanges checks the header lines a function returned (out) against those it was
// given (in): every line must be valid and allowed, and read-only headers unchanged. When out
// is in with lines appended (what most functions return), only those lines are looked at:
// lines passed through were on the wire already, the input holds no disallowed header
// (Function's contract), and a read-only header is then changed only if an appended line has
// its name.
func checkHeaderChanges(d Dialect, s Stage, in, out Headers) error {
	added, ok := out.AppendedTo(in)
	if !ok {
		if err := checkHeaders(s, out); err != nil {
			return err
		}
		return checkReadOnly(d, s, in, out)
	}
	if err := checkHeaders(s, added); err != nil {
		return err
	}
	for _, name := range ReadOnlyHeaders(d, s) {
		if added.Has(name) {
			verb := "add"
			if in.Has(name) {
				verb = "change"
			}
			return readOnlyError(s, verb, name)
		}
	}
	return nil
}

func readOnlyError(s Stage, verb, name string) error {
	return Errorf(Validation, "%s: the function tried to %s read-only header, headerName : %s", s, verb, CanonicalName(name))
}

// checkHeaders refuses disallowed headers and header lines that cannot be written on the wire.
func checkHeaders(s Stage, h Headers) error {
	for _, f := range h {
		if !isToken(f.Name) {
			return Errorf(Validation, "%s: invalid header name %q", s, f.Name)
		}
		if strings.ContainsAny(f.Value, "\r\n\x00") {
			return Errorf(Validation, "%s: header %s has a CR, LF or NUL in its value", s, f.Name)
		}
		if IsDisallowed(f.Name) {
			return Errorf(Validation, "%s: the function tried to add a disallowed header, headerName : %s", s, f.Name)
		}
	}
	return nil
}

// checkReadOnly refuses a result whose read-only headers differ from the input's: added,
// changed and deleted lines all count.
func checkReadOnly(d Dialect, s Stage, in, out Headers) error {
	for _, name := range ReadOnlyHeaders(d, s) {
		if sameValues(in, out, name) {
			continue
		}
		verb := "change"
		switch {
		case !out.Has(name):
			verb = "delete"
		case !in.Has(name):
			verb = "add"
		}
		return readOnlyError(s, verb, name)
	}
	return nil
}

// sameValues reports whether a and b hold the same values of name, in the same order. It
// runs on every result, so it compares in place rather than collecting the values.
func sameValues(a, b Headers, name string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && !strings.EqualFold(a[i].Name, name) {
			i++
		}
		for j < len(b) && !strings.EqualFold(b[j].Name, name) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i].Value != b[j].Value {
			return false
		}
		i, j = i+1, j+1
	}
}

func checkOrigin(s Stage, o *Origin, reqHeaders Headers) error {
	if (o.Custom == nil) == (o.S3 == nil) {
		return Errorf(Validation, "%s: origin must have exactly one of custom or s3", s)
	}
	if c := o.Custom; c != nil {
		switch {
		case c.DomainName == "" || len(c.DomainName) > 253 || strings.ContainsAny(c.DomainName, ":/ "):
			return Errorf(Validation, "%s: origin.custom.domainName %q must be a host name of at most 253 characters, without a port", s, c.DomainName)
		case c.Port != 80 && c.Port != 443 && (c.Port < 1024 || c.Port > 65535):
			return Errorf(Validation, "%s: origin.custom.port %d must be 80, 443 or 1024-65535", s, c.Port)
		case c.Protocol != "http" && c.Protocol != "https":
			return Errorf(Validation, "%s: origin.custom.protocol %q must be http or https", s, c.Protocol)
		case c.ReadTimeout != 0 && (c.ReadTimeout < 1 || c.ReadTimeout > 60):
			return Errorf(Validation, "%s: origin.custom.readTimeout %d must be 1-60 seconds", s, c.ReadTimeout)
		case c.KeepaliveTimeout != 0 && (c.KeepaliveTimeout < 1 || c.KeepaliveTimeout > 60):
			return Errorf(Validation, "%s: origin.custom.keepaliveTimeout %d must be 1-60 seconds", s, c.KeepaliveTimeout)
		}
		if err := checkOriginPath(s, "custom", c.Path); err != nil {
			return err
		}
		return checkCustomHeaders(s, c.CustomHeaders, reqHeaders)
	}
	o3 := o.S3
	if o3.DomainName == "" || len(o3.DomainName) > 128 || o3.DomainName != strings.ToLower(o3.DomainName) {
		return Errorf(Validation, "%s: origin.s3.domainName %q must be a lower-case bucket name of at most 128 characters", s, o3.DomainName)
	}
	if err := checkOriginPath(s, "s3", o3.Path); err != nil {
		return err
	}
	return checkCustomHeaders(s, o3.CustomHeaders, reqHeaders)
}

func checkOriginPath(s Stage, kind, p string) error {
	if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || len(p) > 255) {
		return Errorf(Validation, "%s: origin.%s.path %q must be empty or start with '/', not end with '/', and be at most 255 characters", s, kind, p)
	}
	return nil
}

func checkCustomHeaders(s Stage, custom, reqHeaders Headers) error {
	if err := checkHeaders(s, custom); err != nil {
		return err
	}
	for _, f := range custom {
		if reqHeaders.Has(f.Name) {
			return Errorf(Validation, "%s: origin custom header %s is also a request header", s, f.Name)
		}
	}
	return nil
}

func isCTLOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }

// isToken reports whether s is an RFC 9110 token (a valid header field name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
