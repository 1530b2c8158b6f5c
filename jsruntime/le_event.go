package jsruntime

import (
	"encoding/base64"
	"strconv"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// leBinding is the Lambda@Edge dialect: {Records:[{cf:{config, request[, response]}}]}, headers
// as lower-case name -> [{key, value}], string status (shared/spec/edge-events.md, section a).
type leBinding struct{}

var _ binding = leBinding{}

func (leBinding) event(v *vm, ev *hooks.Event) (goja.Value, error) {
	rt := v.rt
	cf := rt.NewObject()
	cfg := rt.NewObject()
	_ = cfg.Set("distributionDomainName", ev.Config.DistributionDomainName)
	_ = cfg.Set("distributionId", ev.Config.DistributionID)
	_ = cfg.Set("eventType", ev.Stage.String())
	_ = cfg.Set("requestId", ev.Config.RequestID)
	_ = cf.Set("config", cfg)
	if ev.Request != nil {
		_ = cf.Set("request", leRequest(rt, ev.Stage, ev.Request))
	}
	if ev.Response != nil && (ev.Stage == hooks.OriginResponse || ev.Stage == hooks.ViewerResponse) {
		r := rt.NewObject()
		_ = r.Set("headers", leHeaders(rt, ev.Response.Headers))
		_ = r.Set("status", strconv.Itoa(ev.Response.Status))
		_ = r.Set("statusDescription", ev.Response.StatusDescription)
		_ = cf.Set("response", r)
	}
	rec := rt.NewObject()
	_ = rec.Set("cf", cf)
	root := rt.NewObject()
	_ = root.Set("Records", rt.NewArray(rec))
	return root, nil
}

func leRequest(rt *goja.Runtime, s hooks.Stage, r *hooks.Request) *goja.Object {
	o := rt.NewObject()
	if r.Body != nil && s.IsRequest() {
		b := rt.NewObject()
		_ = b.Set("inputTruncated", r.Body.InputTruncated)
		_ = b.Set("action", "read-only")
		_ = b.Set("encoding", "base64")
		_ = b.Set("data", base64.StdEncoding.EncodeToString(r.Body.Data))
		_ = o.Set("body", b)
	}
	_ = o.Set("clientIp", r.ClientIP)
	_ = o.Set("headers", leHeaders(rt, r.Headers))
	_ = o.Set("method", r.Method)
	if r.Origin != nil && (s == hooks.OriginRequest || s == hooks.OriginResponse) {
		_ = o.Set("origin", leOrigin(rt, r.Origin))
	}
	_ = o.Set("querystring", r.QueryString)
	_ = o.Set("uri", r.URI)
	return o
}

func leHeaders(rt *goja.Runtime, h hooks.Headers) *goja.Object { return newLazyHeaders(rt, h) }

func leOrigin(rt *goja.Runtime, or *hooks.Origin) *goja.Object {
	o := rt.NewObject()
	if c := or.Custom; c != nil {
		x := rt.NewObject()
		_ = x.Set("customHeaders", leHeaders(rt, c.CustomHeaders))
		_ = x.Set("domainName", c.DomainName)
		_ = x.Set("keepaliveTimeout", c.KeepaliveTimeout)
		_ = x.Set("path", c.Path)
		_ = x.Set("port", c.Port)
		_ = x.Set("protocol", c.Protocol)
		_ = x.Set("readTimeout", c.ReadTimeout)
		ssl := make([]any, len(c.SSLProtocols))
		for i, p := range c.SSLProtocols {
			ssl[i] = p
		}
		_ = x.Set("sslProtocols", rt.NewArray(ssl...))
		_ = o.Set("custom", x)
	}
	if s3 := or.S3; s3 != nil {
		x := rt.NewObject()
		_ = x.Set("authMethod", s3.AuthMethod)
		_ = x.Set("customHeaders", leHeaders(rt, s3.CustomHeaders))
		_ = x.Set("domainName", s3.DomainName)
		_ = x.Set("path", s3.Path)
		_ = x.Set("region", s3.Region)
		_ = o.Set("s3", x)
	}
	return o
}
