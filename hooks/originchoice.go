package hooks

import "slices"

// OriginChoice is the origin a CloudFront function (runtime 2.0) chose at viewer-request with
// the cloudfront module: configured origins by id, one (cf.selectRequestOriginById) or a
// failover group's members in order (cf.createRequestOriginGroup), and the overrides of
// cf.updateRequestOrigin. The edge resolves the ids against its configuration.
type OriginChoice struct {
	// IDs are configured origin ids, tried in order; empty: the behavior's origin.
	IDs []string
	// FailoverStatus are the statuses on which a group tries its next member (an origin
	// that cannot be reached always makes it).
	FailoverStatus []int
	// Update overrides the chosen (first) origin; nil: none.
	Update *OriginUpdate
}

// OriginUpdate is cf.updateRequestOrigin's overrides. Zero fields keep the origin's value.
type OriginUpdate struct {
	DomainName string
	Path       string
	SetPath    bool // Path was given ("" removes the origin's path)
	Port       int
	Protocol   string // "http" or "https"
	// CustomHeaders replace the origin's custom headers when SetHeaders ({} removes them).
	CustomHeaders Headers
	SetHeaders    bool
}

// Clone returns a deep copy of c.
func (c *OriginChoice) Clone() *OriginChoice {
	if c == nil {
		return nil
	}
	d := &OriginChoice{IDs: slices.Clone(c.IDs), FailoverStatus: slices.Clone(c.FailoverStatus)}
	if c.Update != nil {
		u := *c.Update
		u.CustomHeaders = c.Update.CustomHeaders.Clone()
		d.Update = &u
	}
	return d
}

// ValidHeaderName reports whether s is a valid header field name (an RFC 9110 token).
func ValidHeaderName(s string) bool { return isToken(s) }
