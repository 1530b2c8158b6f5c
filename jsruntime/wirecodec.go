package jsruntime

import (
	"encoding/binary"
	"errors"

	"github.com/vergecdn/verge/hooks"
)

// The binary encoding of call and result frames (the init frame stays JSON). Integers are
// uvarints (zig-zag for signed values), strings and byte slices are length-prefixed, optional
// values and nil-able slices carry a presence marker (for slices: count+1, 0 meaning nil), so
// a decoded value is deep-equal to the encoded one. It is several times cheaper than JSON on
// the per-invocation path.

var errShortFrame = errors.New("jsruntime: worker protocol: truncated or malformed frame")

type wenc struct{ b []byte }

func (e *wenc) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *wenc) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *wenc) str(s string)  { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *wenc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *wenc) bytes(p []byte) {
	if p == nil {
		e.uint(0)
		return
	}
	e.uint(uint64(len(p)) + 1)
	e.b = append(e.b, p...)
}

func (e *wenc) headers(h hooks.Headers) {
	if h == nil {
		e.uint(0)
		return
	}
	e.uint(uint64(len(h)) + 1)
	for _, f := range h {
		e.str(f.Name)
		e.str(f.Value)
	}
}

func (e *wenc) request(r *hooks.Request) {
	e.bool(r != nil)
	if r == nil {
		return
	}
	e.str(r.ClientIP)
	e.str(r.Method)
	e.str(r.URI)
	e.str(r.QueryString)
	e.headers(r.Headers)
	e.bool(r.Origin != nil)
	if o := r.Origin; o != nil {
		e.bool(o.Custom != nil)
		if c := o.Custom; c != nil {
			e.str(c.DomainName)
			e.int(int64(c.Port))
			e.str(c.Protocol)
			e.str(c.Path)
			e.int(int64(c.ReadTimeout))
			e.int(int64(c.KeepaliveTimeout))
			if c.SSLProtocols == nil {
				e.uint(0)
			} else {
				e.uint(uint64(len(c.SSLProtocols)) + 1)
				for _, p := range c.SSLProtocols {
					e.str(p)
				}
			}
			e.headers(c.CustomHeaders)
		}
		e.bool(o.S3 != nil)
		if s := o.S3; s != nil {
			e.str(s.DomainName)
			e.str(s.Path)
			e.str(s.Region)
			e.str(s.AuthMethod)
			e.headers(s.CustomHeaders)
		}
	}
	e.bool(r.Body != nil)
	if b := r.Body; b != nil {
		e.bytes(b.Data)
		e.bool(b.InputTruncated)
		e.bool(b.Replace)
	}
	e.originChoice(r.OriginChoice) // cff_wirecodec.go
}

func (e *wenc) response(r *hooks.Response) {
	e.bool(r != nil)
	if r == nil {
		return
	}
	e.int(int64(r.Status))
	e.str(r.StatusDescription)
	e.headers(r.Headers)
	e.bytes(r.Body)
	e.bool(r.BodySet)
}

func (e *wenc) event(ev *hooks.Event) {
	e.uint(uint64(ev.Stage))
	e.str(ev.Config.DistributionDomainName)
	e.str(ev.Config.DistributionID)
	e.str(ev.Config.RequestID)
	e.request(ev.Request)
	e.response(ev.Response)
}

func (e *wenc) call(c *wireCall) {
	e.uint(c.ID)
	e.uint(c.Program)
	e.int(c.Deadline)
	e.str(c.RequestID)
	e.bool(c.WantJSON)
	e.event(c.Event)
}

func (e *wenc) result(r *wireResult) {
	e.uint(r.ID)
	e.request(r.Result.Request)
	e.response(r.Result.Response)
	e.str(r.Output)
	e.uint(uint64(len(r.Logs)))
	for _, l := range r.Logs {
		e.str(l.Level)
		e.str(l.Message)
	}
	e.bool(r.HasErr)
	e.uint(uint64(r.ErrKind))
	e.str(r.ErrMsg)
	e.bool(r.Cold)
	e.int(int64(r.InUse))
	e.int(int64(r.Idle))
}

// wdec decodes from one string, so every decoded string is a substring of a single copy of
// the frame (one allocation for all of them). After the first error every read returns a zero
// value and err stays set.
type wdec struct {
	b   string
	err error
}

func (d *wdec) fail() { d.err = errShortFrame; d.b = "" }

func (d *wdec) uint() uint64 {
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.b = d.b[i+1:]
			return v
		}
	}
	d.fail()
	return 0
}

func (d *wdec) int() int64 {
	u := d.uint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *wdec) len(extra uint64) (int, bool) {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b))+extra {
		d.fail()
		return 0, false
	}
	return int(n), true
}

func (d *wdec) str() string {
	n, ok := d.len(0)
	if !ok {
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *wdec) bool() bool {
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail()
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *wdec) bytes() []byte {
	n, ok := d.len(1)
	if !ok || n == 0 {
		return nil
	}
	n--
	if n > len(d.b) {
		d.fail()
		return nil
	}
	p := []byte(d.b[:n])
	d.b = d.b[n:]
	return p
}

func (d *wdec) headers() hooks.Headers {
	n, ok := d.len(1)
	if !ok || n == 0 {
		return nil
	}
	h := make(hooks.Headers, 0, min(n-1, len(d.b)/2))
	for i := 0; i < n-1 && d.err == nil; i++ {
		h = append(h, hooks.Header{Name: d.str(), Value: d.str()})
	}
	return h
}

func (d *wdec) request() *hooks.Request {
	if !d.bool() {
		return nil
	}
	r := &hooks.Request{ClientIP: d.str(), Method: d.str(), URI: d.str(), QueryString: d.str(), Headers: d.headers()}
	if d.bool() {
		r.Origin = &hooks.Origin{}
		if d.bool() {
			c := &hooks.CustomOrigin{DomainName: d.str(), Port: int(d.int()), Protocol: d.str(), Path: d.str(),
				ReadTimeout: int(d.int()), KeepaliveTimeout: int(d.int())}
			if n, ok := d.len(1); ok && n > 0 {
				c.SSLProtocols = make([]string, 0, min(n-1, len(d.b)))
				for i := 0; i < n-1 && d.err == nil; i++ {
					c.SSLProtocols = append(c.SSLProtocols, d.str())
				}
			}
			c.CustomHeaders = d.headers()
			r.Origin.Custom = c
		}
		if d.bool() {
			r.Origin.S3 = &hooks.S3Origin{DomainName: d.str(), Path: d.str(), Region: d.str(), AuthMethod: d.str(), CustomHeaders: d.headers()}
		}
	}
	if d.bool() {
		r.Body = &hooks.Body{Data: d.bytes(), InputTruncated: d.bool(), Replace: d.bool()}
	}
	r.OriginChoice = d.originChoice() // cff_wirecodec.go
	return r
}

func (d *wdec) response() *hooks.Response {
	if !d.bool() {
		return nil
	}
	return &hooks.Response{Status: int(d.int()), StatusDescription: d.str(), Headers: d.headers(), Body: d.bytes(), BodySet: d.bool()}
}

func (d *wdec) event() *hooks.Event {
	ev := &hooks.Event{Stage: hooks.Stage(d.uint())}
	ev.Config = hooks.Config{DistributionDomainName: d.str(), DistributionID: d.str(), RequestID: d.str()}
	ev.Request = d.request()
	ev.Response = d.response()
	return ev
}

func decodeCall(b []byte) (wireCall, error) {
	d := &wdec{b: string(b)}
	c := wireCall{ID: d.uint(), Program: d.uint(), Deadline: d.int(), RequestID: d.str(), WantJSON: d.bool()}
	c.Event = d.event()
	return c, d.err
}

func decodeResult(b []byte) (wireResult, error) {
	d := &wdec{b: string(b)}
	r := wireResult{ID: d.uint()}
	r.Result.Request = d.request()
	r.Result.Response = d.response()
	r.Output = d.str()
	if n, ok := d.len(0); ok && n > 0 {
		r.Logs = make([]LogLine, 0, min(n, len(d.b)/2))
		for i := 0; i < n && d.err == nil; i++ {
			r.Logs = append(r.Logs, LogLine{Level: d.str(), Message: d.str()})
		}
	}
	r.HasErr = d.bool()
	r.ErrKind = hooks.Kind(d.uint())
	r.ErrMsg = d.str()
	r.Cold = d.bool()
	r.InUse = int(d.int())
	r.Idle = int(d.int())
	return r, d.err
}
