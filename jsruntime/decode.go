package jsruntime

import (
	"math"
	"reflect"
	"strconv"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// decoder reads a function's returned JS value into the neutral model. Every shape error
// (wrong type, missing required field) is a hooks.Validation error naming the field's path.
type decoder struct {
	rt    *goja.Runtime
	stage hooks.Stage
	le    *leEvent // the invocation's Lambda@Edge event, whose untouched parts decode from Go; may be nil
	cf    *cffCall // the invocation's CloudFront function state, whose headers decode likewise; may be nil
}

func (d decoder) errorf(path, format string, args ...any) error {
	return hooks.Errorf(hooks.Validation, "%s: %s "+format, append([]any{d.stage, path}, args...)...)
}

// field returns o[key], or nil when it is absent, undefined or null.
func field(o *goja.Object, key string) goja.Value {
	v := o.Get(key)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return v
}

func typeName(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if _, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(v); isFn {
			return "function"
		}
		return "object"
	}
	switch v.ExportType().Kind().String() {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int64", "float64":
		return "number"
	}
	return v.ExportType().String()
}

// isString reports whether v is a string primitive (not a String object), without exporting it.
func isString(v goja.Value) bool {
	if _, ok := v.(*goja.Object); ok || v == nil {
		return false
	}
	return v.ExportType() == reflectString
}

var reflectString = reflect.TypeFor[string]()

// object returns v as an object, or a validation error.
func (d decoder) object(v goja.Value, path string) (*goja.Object, error) {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, d.errorf(path, "must be an object, not %s", typeName(v))
	}
	if _, isFn := goja.AssertFunction(v); isFn {
		return nil, d.errorf(path, "must be an object, not a function")
	}
	return o, nil
}

// str reads an optional string field; present reports whether it was set.
func (d decoder) str(o *goja.Object, key, path string) (s string, present bool, err error) {
	v := field(o, key)
	if v == nil {
		return "", false, nil
	}
	if !isString(v) {
		return "", true, d.errorf(path+"."+key, "must be a string, not %s", typeName(v))
	}
	return v.String(), true, nil
}

// uri reads a request's required uri.
func (d decoder) uri(o *goja.Object) (string, error) {
	uri, ok, err := d.str(o, "uri", "request")
	if err == nil && !ok {
		err = d.errorf("request.uri", "is required")
	}
	return uri, err
}

// scalar reads a header value: a string, or a finite number or boolean (converted as JS does).
func (d decoder) scalar(v goja.Value, path string) (string, error) {
	switch typeName(v) {
	case "string":
		return v.String(), nil
	case "number":
		if f := v.ToFloat(); math.IsInf(f, 0) || math.IsNaN(f) {
			return "", d.errorf(path, "must be a string, not %v", f)
		}
		return v.String(), nil
	case "boolean":
		return v.String(), nil
	}
	return "", d.errorf(path, "must be a string, not %s", typeName(v))
}

// integer reads an integer given as a number or a decimal string ("302").
func (d decoder) integer(v goja.Value, path string) (int, error) {
	switch typeName(v) {
	case "number":
		f := v.ToFloat()
		if f != math.Trunc(f) || f < 0 || f > 1e6 {
			return 0, d.errorf(path, "must be an integer, not %v", f)
		}
		return int(f), nil
	case "string":
		n, err := strconv.Atoi(v.String())
		if err != nil || n < 0 {
			return 0, d.errorf(path, "must be an integer, not %q", v.String())
		}
		return n, nil
	}
	return 0, d.errorf(path, "must be an integer or a numeric string, not %s", typeName(v))
}

// keys returns an object's own enumerable string keys in order.
func keys(o *goja.Object) []string { return o.Keys() }
