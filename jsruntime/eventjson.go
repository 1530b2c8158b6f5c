package jsruntime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vergecdn/verge/hooks"
)

// ParseEvent reads an event file in either dialect's JSON (a Lambda@Edge
// {"Records":[{"cf":...}]} event, or a CloudFront Functions {"version","context","request"...}
// event) into the neutral model. stage, when not empty, overrides the event's own eventType.
// Header order is kept. An event with no eventType and no stage gets one inferred from its
// shape (see inferStage). Errors are prefixed "jsruntime: event: ".
func ParseEvent(data []byte, stage string) (*hooks.Event, error) {
	ev, _, err := parseEvent(data, stage)
	return ev, err
}

// parsedEvent is what parseEvent learnt of an event file beyond the event itself.
type parsedEvent struct {
	inferredStage bool // the file had no eventType and gave no stage
	cff           bool // the file has CloudFront Functions' shape (no Records)
}

// parseEvent is ParseEvent, also saying how the event was read.
func parseEvent(data []byte, stage string) (_ *hooks.Event, _ parsedEvent, _ error) {
	var pe parsedEvent
	var probe struct {
		Records json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, pe, fmt.Errorf("jsruntime: event: %w", err)
	}
	pe.cff = probe.Records == nil
	var ev *hooks.Event
	var evType string
	var err error
	if probe.Records != nil {
		ev, evType, err = parseLambdaEdgeEvent(data)
	} else {
		ev, evType, err = parseCFFEvent(data)
	}
	if err != nil {
		return nil, pe, fmt.Errorf("jsruntime: event: %w", err)
	}
	if stage != "" {
		evType = stage
	}
	if evType == "" {
		evType, pe.inferredStage = inferStage(probe.Records != nil, ev.Response != nil), true
	}
	if ev.Stage, err = hooks.ParseStage(evType); err != nil {
		return nil, pe, fmt.Errorf("jsruntime: event: %w", err)
	}
	if ev.Request == nil {
		return nil, pe, errors.New("jsruntime: event: the event has no request")
	}
	if !ev.Stage.IsRequest() && ev.Response == nil {
		return nil, pe, fmt.Errorf("jsruntime: event: a %s event needs a response", ev.Stage)
	}
	return ev, pe, nil
}

// ordered is a JSON object whose member order is kept.
type ordered []member

type member struct {
	Key string
	Val json.RawMessage
}

func (o *ordered) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return errors.New("want an object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		*o = append(*o, member{Key: kt.(string), Val: raw})
	}
	return nil
}

type leKV struct {
	Key   *string `json:"key"`
	Value string  `json:"value"`
}

func leHeadersJSON(o ordered) (hooks.Headers, error) {
	var h hooks.Headers
	for _, m := range o {
		var kvs []leKV
		if err := json.Unmarshal(m.Val, &kvs); err != nil {
			return nil, fmt.Errorf("header %s: %w", m.Key, err)
		}
		for _, kv := range kvs {
			name := hooks.CanonicalName(m.Key)
			if kv.Key != nil {
				name = *kv.Key
			}
			h = append(h, hooks.Header{Name: name, Value: kv.Value})
		}
	}
	return h, nil
}

// status accepts "200" or 200.
type status int

func (s *status) UnmarshalJSON(b []byte) error {
	str := strings.Trim(string(b), `"`)
	n, err := strconv.Atoi(str)
	if err != nil {
		return fmt.Errorf("status %s is not a number", b)
	}
	*s = status(n)
	return nil
}

func parseLambdaEdgeEvent(data []byte) (*hooks.Event, string, error) {
	var e struct {
		Records []struct {
			CF struct {
				Config struct {
					DistributionDomainName string `json:"distributionDomainName"`
					DistributionID         string `json:"distributionId"`
					EventType              string `json:"eventType"`
					RequestID              string `json:"requestId"`
				} `json:"config"`
				Request *struct {
					ClientIP    string  `json:"clientIp"`
					Method      string  `json:"method"`
					URI         string  `json:"uri"`
					QueryString string  `json:"querystring"`
					Headers     ordered `json:"headers"`
					Origin      *struct {
						Custom *struct {
							CustomHeaders    ordered  `json:"customHeaders"`
							DomainName       string   `json:"domainName"`
							KeepaliveTimeout int      `json:"keepaliveTimeout"`
							Path             string   `json:"path"`
							Port             int      `json:"port"`
							Protocol         string   `json:"protocol"`
							ReadTimeout      int      `json:"readTimeout"`
							SSLProtocols     []string `json:"sslProtocols"`
						} `json:"custom"`
						S3 *struct {
							AuthMethod    string  `json:"authMethod"`
							CustomHeaders ordered `json:"customHeaders"`
							DomainName    string  `json:"domainName"`
							Path          string  `json:"path"`
							Region        string  `json:"region"`
						} `json:"s3"`
					} `json:"origin"`
					Body *struct {
						InputTruncated bool   `json:"inputTruncated"`
						Encoding       string `json:"encoding"`
						Data           string `json:"data"`
					} `json:"body"`
				} `json:"request"`
				Response *struct {
					Status            status  `json:"status"`
					StatusDescription string  `json:"statusDescription"`
					Headers           ordered `json:"headers"`
				} `json:"response"`
			} `json:"cf"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, "", err
	}
	if len(e.Records) != 1 {
		return nil, "", fmt.Errorf("want exactly one record, got %d", len(e.Records))
	}
	cf := e.Records[0].CF
	ev := &hooks.Event{Config: hooks.Config{
		DistributionDomainName: cf.Config.DistributionDomainName,
		DistributionID:         cf.Config.DistributionID,
		RequestID:              cf.Config.RequestID,
	}}
	var err error
	if r := cf.Request; r != nil {
		req := &hooks.Request{ClientIP: r.ClientIP, Method: r.Method, URI: r.URI, QueryString: r.QueryString}
		if req.Headers, err = leHeadersJSON(r.Headers); err != nil {
			return nil, "", err
		}
		if o := r.Origin; o != nil {
			req.Origin = &hooks.Origin{}
			if c := o.Custom; c != nil {
				ch, err := leHeadersJSON(c.CustomHeaders)
				if err != nil {
					return nil, "", err
				}
				req.Origin.Custom = &hooks.CustomOrigin{DomainName: c.DomainName, Port: c.Port, Protocol: c.Protocol, Path: c.Path,
					ReadTimeout: c.ReadTimeout, KeepaliveTimeout: c.KeepaliveTimeout, SSLProtocols: c.SSLProtocols, CustomHeaders: ch}
			}
			if s := o.S3; s != nil {
				ch, err := leHeadersJSON(s.CustomHeaders)
				if err != nil {
					return nil, "", err
				}
				req.Origin.S3 = &hooks.S3Origin{DomainName: s.DomainName, Path: s.Path, Region: s.Region, AuthMethod: s.AuthMethod, CustomHeaders: ch}
			}
		}
		if b := r.Body; b != nil {
			data := []byte(b.Data)
			if b.Encoding == "base64" {
				if data, err = base64.StdEncoding.DecodeString(b.Data); err != nil {
					return nil, "", fmt.Errorf("request.body.data: %w", err)
				}
			}
			req.Body = &hooks.Body{Data: data, InputTruncated: b.InputTruncated}
		}
		ev.Request = req
	}
	if r := cf.Response; r != nil {
		resp := &hooks.Response{Status: int(r.Status), StatusDescription: r.StatusDescription}
		if resp.Headers, err = leHeadersJSON(r.Headers); err != nil {
			return nil, "", err
		}
		ev.Response = resp
	}
	return ev, cf.Config.EventType, nil
}

// inferStage is the stage of an event that names none, from its shape, as the Lambda console
// runs any event: a request only is viewer-request; with a response, origin-response for
// Lambda@Edge and viewer-response for CloudFront Functions (which run at viewer stages only).
func inferStage(lambdaEdge, hasResponse bool) string {
	switch {
	case !hasResponse:
		return hooks.ViewerRequest.String()
	case lambdaEdge:
		return hooks.OriginResponse.String()
	}
	return hooks.ViewerResponse.String()
}
