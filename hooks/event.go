package hooks

// Event is what a function receives: Lambda@Edge's event in a runtime-neutral form. A runtime
// turns it into its own dialect (Records[0].cf for Lambda@Edge, event.request/event.viewer for
// CloudFront Functions) and reads the result back into a Result.
//
// The pipeline owns an Event and everything it points to; a Function must not retain any of it
// after Invoke returns, and must not modify it (it returns changed copies in its Result).
type Event struct {
	Stage    Stage
	Config   Config
	Request  *Request
	Response *Response // set for origin-response and viewer-response only
}

// Config is the read-only part of every event (Records[0].cf.config).
type Config struct {
	DistributionDomainName string
	DistributionID         string
	RequestID              string
}

// Request is an HTTP request as a function sees it.
type Request struct {
	ClientIP    string
	Method      string
	URI         string // path, always starting with '/'
	QueryString string // raw, without '?'; "" when there is none
	Headers     Headers
	Origin      *Origin // origin-request and origin-response only
	Body        *Body   // only when the association includes the body
	// OriginChoice is a CloudFront function's choice of origin at viewer-request (results
	// only); nil: the behavior's origin.
	OriginChoice *OriginChoice
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	c.Headers = r.Headers.Clone()
	c.Origin = r.Origin.Clone()
	c.OriginChoice = r.OriginChoice.Clone()
	if r.Body != nil {
		b := *r.Body
		b.Data = append([]byte(nil), r.Body.Data...)
		c.Body = &b
	}
	return &c
}

// Body is the request body exposed to viewer-request and origin-request functions whose
// association includes it.
type Body struct {
	Data           []byte // decoded bytes
	InputTruncated bool   // the viewer's body was longer than the stage's limit
	Replace        bool   // the function asked for Data to be sent instead of the original body
}

// Origin is where an origin-facing request goes. Exactly one of Custom and S3 is set.
type Origin struct {
	Custom *CustomOrigin
	S3     *S3Origin
}

// Clone returns a deep copy of o.
func (o *Origin) Clone() *Origin {
	if o == nil {
		return nil
	}
	c := &Origin{}
	if o.Custom != nil {
		cu := *o.Custom
		cu.CustomHeaders = o.Custom.CustomHeaders.Clone()
		cu.SSLProtocols = append([]string(nil), o.Custom.SSLProtocols...)
		c.Custom = &cu
	}
	if o.S3 != nil {
		s := *o.S3
		s.CustomHeaders = o.S3.CustomHeaders.Clone()
		c.S3 = &s
	}
	return c
}

// SameEndpoint reports whether o and p send requests to the same place (protocol, host, port,
// base path): what decides whether a function switched origin. Custom headers, timeouts and
// an empty versus a missing list do not count. A nil or malformed origin matches only nil.
func (o *Origin) SameEndpoint(p *Origin) bool {
	if o == nil || p == nil {
		return o == p
	}
	a, okA := o.endpoint()
	b, okB := p.endpoint()
	return okA && okB && a == b
}

type endpoint struct {
	protocol, host, path string
	port                 int
}

func (o *Origin) endpoint() (endpoint, bool) {
	switch {
	case o.Custom != nil && o.S3 == nil:
		c := o.Custom
		return endpoint{c.Protocol, c.DomainName, c.Path, c.Port}, true
	case o.S3 != nil && o.Custom == nil:
		return endpoint{"https", o.S3.DomainName, o.S3.Path, 443}, true
	}
	return endpoint{}, false
}

// CustomHeaders returns the origin's custom headers, whichever kind it is.
func (o *Origin) CustomHeaders() Headers {
	switch {
	case o == nil:
		return nil
	case o.Custom != nil:
		return o.Custom.CustomHeaders
	case o.S3 != nil:
		return o.S3.CustomHeaders
	}
	return nil
}

// CustomOrigin is Lambda@Edge's origin.custom.
type CustomOrigin struct {
	DomainName       string
	Port             int
	Protocol         string // "http" or "https"
	Path             string // "" or starting with '/', no trailing '/'
	ReadTimeout      int    // seconds, 1-60
	KeepaliveTimeout int    // seconds, 1-60
	SSLProtocols     []string
	CustomHeaders    Headers
}

// S3Origin is Lambda@Edge's origin.s3. Verge fetches from it as an https custom origin.
type S3Origin struct {
	DomainName    string
	Path          string
	Region        string
	AuthMethod    string // "origin-access-identity" or "none"
	CustomHeaders Headers
}

// Response is an HTTP response as a function sees it, or one a function generates.
type Response struct {
	Status            int
	StatusDescription string
	Headers           Headers
	// Body is the response body. A function never sees the origin's body; in a result, a nil
	// Body with BodySet false means "keep the body as it is".
	Body    []byte
	BodySet bool
}

// Clone returns a deep copy of r.
func (r *Response) Clone() *Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Headers = r.Headers.Clone()
	if r.Body != nil {
		c.Body = append([]byte(nil), r.Body...)
	}
	return &c
}
