package jsruntime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// cffEventFromSource builds a CloudFront function's event from the event file's own JSON
// (verge fn test), so JSON.stringify(event) shows the file's keys in the file's order and
// nothing the file lacks, as CloudFront's TestFunction does; only what CloudFront always
// presents is added (querystring, headers and cookies, empty) and request.rawQueryString().
// ev is the same file parsed (ParseEvent), which the result is read against.
func (v *vm) cffEventFromSource(src []byte, ev *hooks.Event) (goja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	val, err := jsonToJS(v.rt, dec)
	if err != nil {
		return nil, fmt.Errorf("jsruntime: event: %w", err)
	}
	root, ok := val.(*goja.Object)
	if !ok {
		return nil, errors.New("jsruntime: event: not an object")
	}
	ensure := func(o *goja.Object, keys ...string) {
		for _, k := range keys {
			if f := o.Get(k); f == nil || goja.IsUndefined(f) || goja.IsNull(f) {
				_ = o.Set(k, v.rt.NewObject())
			}
		}
	}
	if req, ok := root.Get("request").(*goja.Object); ok {
		ensure(req, "querystring", "headers", "cookies")
		qs := ev.Request.QueryString
		_ = req.DefineDataProperty("rawQueryString", builtin(v.rt, "rawQueryString", 0, func(goja.FunctionCall) goja.Value { return v.rt.ToValue(qs) }),
			goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	if resp, ok := root.Get("response").(*goja.Object); ok && ev.Stage == hooks.ViewerResponse {
		ensure(resp, "headers", "cookies")
	}
	return root, nil
}

// jsonToJS reads one JSON value from dec into a JS value, keeping object key order.
func jsonToJS(rt *goja.Runtime, dec *json.Decoder) (goja.Value, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := rt.NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				val, err := jsonToJS(rt, dec)
				if err != nil {
					return nil, err
				}
				_ = o.DefineDataProperty(kt.(string), val, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE) // as JSON.parse: "__proto__" is a key
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var items []any
			for dec.More() {
				val, err := jsonToJS(rt, dec)
				if err != nil {
					return nil, err
				}
				items = append(items, val)
			}
			_, err := dec.Token()
			return rt.NewArray(items...), err
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, err
		}
		return rt.ToValue(f), nil
	case string:
		return rt.ToValue(t), nil
	case bool:
		return rt.ToValue(t), nil
	case nil:
		return goja.Null(), nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", t)
}
