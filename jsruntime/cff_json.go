package jsruntime

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vergecdn/verge/hooks"
)

// cffValue is CloudFront Functions' {value, multiValue} (and attributes for Set-Cookie).
type cffValue struct {
	Value      string `json:"value"`
	Attributes string `json:"attributes"`
	MultiValue []struct {
		Value      string `json:"value"`
		Attributes string `json:"attributes"`
	} `json:"multiValue"`
}

// each calls fn for every value: the multiValue list when present, else value.
func (v cffValue) each(fn func(value, attrs string)) {
	if len(v.MultiValue) == 0 {
		fn(v.Value, v.Attributes)
		return
	}
	for _, m := range v.MultiValue {
		fn(m.Value, m.Attributes)
	}
}

func cffMembers(o ordered, fn func(name string, v cffValue)) error {
	for _, m := range o {
		var v cffValue
		if err := json.Unmarshal(m.Val, &v); err != nil {
			return fmt.Errorf("%s: %w", m.Key, err)
		}
		fn(m.Key, v)
	}
	return nil
}

func parseCFFEvent(data []byte) (*hooks.Event, string, error) {
	var e struct {
		Context struct {
			DistributionDomainName string `json:"distributionDomainName"`
			DistributionID         string `json:"distributionId"`
			EventType              string `json:"eventType"`
			RequestID              string `json:"requestId"`
		} `json:"context"`
		Viewer struct {
			IP string `json:"ip"`
		} `json:"viewer"`
		Request *struct {
			Method      string  `json:"method"`
			URI         string  `json:"uri"`
			QueryString ordered `json:"querystring"`
			Headers     ordered `json:"headers"`
			Cookies     ordered `json:"cookies"`
		} `json:"request"`
		Response *struct {
			StatusCode        int     `json:"statusCode"`
			StatusDescription string  `json:"statusDescription"`
			Headers           ordered `json:"headers"`
			Cookies           ordered `json:"cookies"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, "", err
	}
	ev := &hooks.Event{Config: hooks.Config{
		DistributionDomainName: e.Context.DistributionDomainName,
		DistributionID:         e.Context.DistributionID,
		RequestID:              e.Context.RequestID,
	}}
	if r := e.Request; r != nil {
		req := &hooks.Request{ClientIP: e.Viewer.IP, Method: r.Method, URI: r.URI}
		var qs []string
		if err := cffMembers(r.QueryString, func(name string, v cffValue) {
			v.each(func(val, _ string) { qs = append(qs, name+"="+val) })
		}); err != nil {
			return nil, "", err
		}
		req.QueryString = strings.Join(qs, "&")
		if err := cffMembers(r.Headers, func(name string, v cffValue) {
			v.each(func(val, _ string) { req.Headers.Add(hooks.CanonicalName(name), val) })
		}); err != nil {
			return nil, "", err
		}
		var cookies []string
		if err := cffMembers(r.Cookies, func(name string, v cffValue) {
			v.each(func(val, _ string) { cookies = append(cookies, name+"="+val) })
		}); err != nil {
			return nil, "", err
		}
		if len(cookies) > 0 {
			req.Headers.Add("Cookie", strings.Join(cookies, "; "))
		}
		ev.Request = req
	}
	if r := e.Response; r != nil {
		resp := &hooks.Response{Status: r.StatusCode, StatusDescription: r.StatusDescription}
		if err := cffMembers(r.Headers, func(name string, v cffValue) {
			v.each(func(val, _ string) { resp.Headers.Add(hooks.CanonicalName(name), val) })
		}); err != nil {
			return nil, "", err
		}
		if err := cffMembers(r.Cookies, func(name string, v cffValue) {
			v.each(func(val, attrs string) { resp.Headers.Add("Set-Cookie", joinCookie(name, val, attrs)) })
		}); err != nil {
			return nil, "", err
		}
		ev.Response = resp
	}
	return ev, e.Context.EventType, nil
}

func joinCookie(name, val, attrs string) string {
	s := name + "=" + val
	if attrs != "" {
		s += "; " + attrs
	}
	return s
}
