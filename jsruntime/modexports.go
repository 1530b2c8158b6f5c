package jsruntime

import (
	"bytes"
	"encoding/json"
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
	subpaths := ordered{{Key: ".", Val: raw}} // a target for "." alone
	if isObject(raw) {
		var o ordered
		if err := json.Unmarshal(raw, &o); err != nil {
			return "", thrownError{newJSError(m.rt, "SyntaxError", "", "Error parsing "+dir+"/package.json: "+err.Error())}
		}
		if len(o) > 0 && strings.HasPrefix(o[0].Key, ".") {
			subpaths = o
		}
	}
	key, target, star, found := matchSubpath(subpaths, sub)
	if found && hasDotSegment(star) {
		return "", thrownError{newJSError(m.rt, "TypeError", "ERR_INVALID_MODULE_SPECIFIER", "Invalid module \""+sub+
			"\" request is not a valid match in pattern \""+key+"\" for the \"exports\" resolution of "+dir+"/package.json")}
	}
	if found {
		if t := resolveTarget(target, star, 0); t != "" {
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
func matchSubpath(subpaths ordered, sub string) (key string, target json.RawMessage, star string, found bool) {
	best := -1
	for _, kv := range subpaths {
		if kv.Key == sub {
			return kv.Key, kv.Val, "", true
		}
		prefix, suffix, ok := strings.Cut(kv.Key, "*")
		if !ok || strings.Contains(suffix, "*") || len(sub) < len(prefix)+len(suffix) ||
			!strings.HasPrefix(sub, prefix) || !strings.HasSuffix(sub, suffix) || len(prefix) <= best {
			continue
		}
		best, key, target, star, found = len(prefix), kv.Key, kv.Val, sub[len(prefix):len(sub)-len(suffix)], true
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

// maxExportsDepth bounds the nesting of "exports" (conditions in conditions) that
// resolveTarget follows: real packages nest two or three levels.
const maxExportsDepth = 32

// resolveTarget returns the relative file a target names (a string; an array, whose first
// that resolves counts; a conditions object, whose first key in the file's order that
// require matches counts), or "" when it names none for require.
func resolveTarget(target json.RawMessage, star string, depth int) string {
	if depth > maxExportsDepth {
		return ""
	}
	var str string
	var alts []json.RawMessage
	var conds ordered
	switch {
	case json.Unmarshal(target, &str) == nil:
		if !strings.HasPrefix(str, "./") || strings.Contains(str, "/../") || strings.Contains(str, "/node_modules/") {
			return ""
		}
		return strings.ReplaceAll(str, "*", star)
	case json.Unmarshal(target, &alts) == nil:
		for _, alt := range alts {
			if r := resolveTarget(alt, star, depth+1); r != "" {
				return r
			}
		}
	case isObject(target) && json.Unmarshal(target, &conds) == nil:
		for _, kv := range conds {
			if requireConditions[kv.Key] {
				if r := resolveTarget(kv.Val, star, depth+1); r != "" {
					return r
				}
			}
		}
	}
	return ""
}

// isObject reports whether raw JSON is an object.
func isObject(raw json.RawMessage) bool {
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))
}
