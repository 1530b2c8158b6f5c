package jsruntime

import (
	"bytes"
	"encoding/json"
	"errors"
	"path"
	"strings"
)

// requireConditions are the conditions a require matches in a package's "exports", as Node's
// CommonJS loader has them ("import", "browser" and the rest never match).
var requireConditions = map[string]bool{"require": true, "node": true, "node-addons": true, "default": true}

// exportsTarget returns the file the subpath sub ("." or "./lib") of the package at dir
// resolves to through its package.json's "exports" (raw), as Node resolves it for require: an
// exact subpath, else the pattern ("./lib/*") with the longest prefix; a target is a string
// ("./x.js", "*" replaced), an array (the first that resolves) or a conditions object (the
// first key, in the file's order, that require matches). A subpath exports do not name is
// Node's ERR_PACKAGE_PATH_NOT_EXPORTED.
func (m *modules) exportsTarget(dir string, raw json.RawMessage, sub string) (string, error) {
	exports, err := decodeOrdered(raw)
	if err != nil {
		return "", thrownError{newJSError(m.rt, "SyntaxError", "", "Error parsing "+dir+"/package.json: "+err.Error())}
	}
	subpaths, ok := exports.(orderedObject)
	if !ok || len(subpaths) == 0 || !strings.HasPrefix(subpaths[0].key, ".") {
		subpaths = orderedObject{{".", exports}} // a target for "." alone
	}
	key, target, star, found := matchSubpath(subpaths, sub)
	if found && hasDotSegment(star) {
		return "", thrownError{newJSError(m.rt, "TypeError", "ERR_INVALID_MODULE_SPECIFIER", "Invalid module \""+sub+
			"\" request is not a valid match in pattern \""+key+"\" for the \"exports\" resolution of "+dir+"/package.json")}
	}
	if found {
		if t := resolveTarget(target, star); t != "" {
			return path.Join(dir, t), nil
		}
	}
	msg := "Package subpath '" + sub + "' is not defined by \"exports\" in " + dir + "/package.json"
	if sub == "." {
		msg = "No \"exports\" main defined in " + dir + "/package.json"
	}
	return "", thrownError{newJSError(m.rt, "Error", "ERR_PACKAGE_PATH_NOT_EXPORTED", msg)}
}

// matchSubpath finds sub in an exports object: its own key, else the key with one "*" whose
// prefix is the longest that sub starts with (and whose suffix sub ends with), and what the
// "*" stands for.
func matchSubpath(subpaths orderedObject, sub string) (key string, target any, star string, found bool) {
	best := -1
	for _, kv := range subpaths {
		if kv.key == sub {
			return kv.key, kv.val, "", true
		}
		prefix, suffix, ok := strings.Cut(kv.key, "*")
		if !ok || strings.Contains(suffix, "*") || len(sub) < len(prefix)+len(suffix) ||
			!strings.HasPrefix(sub, prefix) || !strings.HasSuffix(sub, suffix) || len(prefix) <= best {
			continue
		}
		best, key, target, star, found = len(prefix), kv.key, kv.val, sub[len(prefix):len(sub)-len(suffix)], true
	}
	return key, target, star, found
}

// hasDotSegment reports whether what a subpath pattern's "*" stands for has a "." or ".."
// segment, which would step out of the directory the pattern names (Node refuses it).
func hasDotSegment(star string) bool {
	for seg := range strings.SplitSeq(star, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// resolveTarget returns the relative file a target names, or "" when it names none for require.
func resolveTarget(target any, star string) string {
	switch t := target.(type) {
	case string:
		if !strings.HasPrefix(t, "./") || strings.Contains(t, "/../") || strings.Contains(t, "/node_modules/") {
			return ""
		}
		return strings.ReplaceAll(t, "*", star)
	case []any:
		for _, alt := range t {
			if r := resolveTarget(alt, star); r != "" {
				return r
			}
		}
	case orderedObject:
		for _, kv := range t {
			if requireConditions[kv.key] {
				if r := resolveTarget(kv.val, star); r != "" {
					return r
				}
			}
		}
	}
	return ""
}

// orderedObject is a JSON object with its keys in the file's order, which conditions depend on.
type orderedObject []struct {
	key string
	val any
}

// decodeOrdered decodes JSON as encoding/json does into any, but objects into orderedObject.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, &json.SyntaxError{Offset: dec.InputOffset()}
	}
	return v, nil
}

// maxExportsDepth bounds the nesting of "exports" (conditions in conditions), which Node's
// loader would recurse through: real packages nest two or three levels.
const maxExportsDepth = 32

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxExportsDepth {
		return nil, errors.New("\"exports\" nests deeper than 32 levels")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var obj orderedObject
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			key, _ := k.(string)
			obj = append(obj, struct {
				key string
				val any
			}{key, v})
		}
		_, err := dec.Token() // '}'
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return tok, nil
}
