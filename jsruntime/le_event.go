package jsruntime

import (
	"encoding/base64"
	"sync"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// leBinding is the Lambda@Edge dialect: {Records:[{cf:{config, request[, response]}}]}, headers
// as lower-case name -> [{key, value}], string status (shared/spec/edge-events.md, section a).
type leBinding struct{}

var _ binding = leBinding{}

func (leBinding) event(v *vm, ev *hooks.Event) (goja.Value, error) {
	rt := v.rt
	mk, err := v.leFactory()
	if err != nil {
		return nil, err
	}
	r := ev.Request
	sc := &v.strs
	args := [13]goja.Value{
		sc.get(rt, cacheDomain, ev.Config.DistributionDomainName), sc.get(rt, cacheDistID, ev.Config.DistributionID),
		sc.get(rt, cacheStage, ev.Stage.String()), rt.ToValue(ev.Config.RequestID),
		sc.get(rt, cacheClientIP, r.ClientIP), newLazyHeaders(rt, r.Headers), sc.get(rt, cacheMethod, r.Method),
		sc.get(rt, cacheQuery, r.QueryString), sc.get(rt, cacheURI, r.URI),
		goja.Undefined(), goja.Undefined(), goja.Undefined(), goja.Undefined(),
	}
	if resp := ev.Response; resp != nil && (ev.Stage == hooks.OriginResponse || ev.Stage == hooks.ViewerResponse) {
		args[9] = rt.ToValue(true)
		args[10] = newLazyHeaders(rt, resp.Headers)
		args[11] = sc.status(rt, resp.Status)
		args[12] = sc.get(rt, cacheStatusDesc, resp.StatusDescription)
	}
	root, err := mk(goja.Undefined(), args[:]...)
	if err != nil {
		return nil, err
	}
	if r.Origin != nil && (ev.Stage == hooks.OriginRequest || ev.Stage == hooks.OriginResponse) || r.Body != nil && ev.Stage.IsRequest() {
		req := root.ToObject(rt).Get("Records").ToObject(rt).Get("0").ToObject(rt).Get("cf").ToObject(rt).Get("request").ToObject(rt)
		if r.Origin != nil && (ev.Stage == hooks.OriginRequest || ev.Stage == hooks.OriginResponse) {
			_ = req.Set("origin", leOrigin(rt, r.Origin))
		}
		if r.Body != nil && ev.Stage.IsRequest() {
			b := rt.NewObject()
			_ = b.Set("inputTruncated", r.Body.InputTruncated)
			_ = b.Set("action", "read-only")
			_ = b.Set("encoding", "base64")
			_ = b.Set("data", base64.StdEncoding.EncodeToString(r.Body.Data))
			_ = req.Set("body", b)
		}
	}
	return root, nil
}

// leEventFactory builds the event's fixed skeleton with object literals, far cheaper in goja
// than one Object.Set per field. Key order follows CloudFront's examples.
const leEventFactory = `(function (dd, di, et, ri, ip, rh, m, qs, uri, hasResp, sh, st, sd) {
  const cf = { config: { distributionDomainName: dd, distributionId: di, eventType: et, requestId: ri },
    request: { clientIp: ip, headers: rh, method: m, querystring: qs, uri: uri } };
  if (hasResp) cf.response = { headers: sh, status: st, statusDescription: sd };
  return { Records: [{ cf: cf }] };
})`

var leFactoryProgram = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("verge:event", leEventFactory, true)
})

// leFactory returns the vm's event factory, compiling it on first use.
func (v *vm) leFactory() (goja.Callable, error) {
	if v.mkEvent != nil {
		return v.mkEvent, nil
	}
	prg, err := leFactoryProgram()
	if err != nil {
		return nil, err
	}
	f, err := v.rt.RunProgram(prg)
	if err != nil {
		return nil, err
	}
	v.mkEvent, _ = goja.AssertFunction(f)
	return v.mkEvent, nil
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
