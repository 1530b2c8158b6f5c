package jsruntime

import "github.com/vergecdn/verge/hooks"

// originChoice encodes a CloudFront function's origin choice after a request (wirecodec.go).
func (e *wenc) originChoice(c *hooks.OriginChoice) {
	e.bool(c != nil)
	if c == nil {
		return
	}
	e.uint(uint64(len(c.IDs)))
	for _, id := range c.IDs {
		e.str(id)
	}
	e.uint(uint64(len(c.FailoverStatus)))
	for _, s := range c.FailoverStatus {
		e.int(int64(s))
	}
	e.bool(c.Update != nil)
	if u := c.Update; u != nil {
		e.str(u.DomainName)
		e.str(u.Path)
		e.bool(u.SetPath)
		e.int(int64(u.Port))
		e.str(u.Protocol)
		e.headers(u.CustomHeaders)
		e.bool(u.SetHeaders)
	}
}

func (d *wdec) originChoice() *hooks.OriginChoice {
	if !d.bool() {
		return nil
	}
	c := &hooks.OriginChoice{}
	if n, ok := d.len(1); ok {
		for i := 0; i < n && d.err == nil; i++ {
			c.IDs = append(c.IDs, d.str())
		}
	}
	if n, ok := d.len(1); ok {
		for i := 0; i < n && d.err == nil; i++ {
			c.FailoverStatus = append(c.FailoverStatus, int(d.int()))
		}
	}
	if d.bool() {
		c.Update = &hooks.OriginUpdate{DomainName: d.str(), Path: d.str(), SetPath: d.bool(), Port: int(d.int()),
			Protocol: d.str(), CustomHeaders: d.headers(), SetHeaders: d.bool()}
	}
	return c
}
