package edge

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unknownFields walks the document against Config's types and reports the first key that no
// field of its struct takes, however deep (behaviors[0].cache.max_tll), in the configuration's
// words: "FILE:LINE: PATH: unknown field "max_tll" (did you mean max_ttl?)".
//
// The decoder's own KnownFields check stops at every type with an UnmarshalYAML (behaviors,
// origins, functions), and a type's Decode inside it does not inherit the setting; a walk over
// the document checks every level once, before anything is decoded.
func unknownFields(file string, doc *yaml.Node) error {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	p := checkFields(doc, reflect.TypeFor[Config](), "")
	if p == nil {
		return nil
	}
	msg := fmt.Sprintf("unknown field %q", p.key.Value)
	if s := closest(p.key.Value, p.known); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	path := p.path
	if path == "" {
		path = p.key.Value
	} else {
		path += "." + p.key.Value
	}
	return fmt.Errorf("config: %s:%d: %s: %s", file, p.key.Line, path, msg)
}

// unknownField is a key written where its struct has no such field.
type unknownField struct {
	path  string // the mapping's own path ("" at the top)
	key   *yaml.Node
	known []string // the struct's field names, for a suggestion
}

// checkFields checks n, decoded into type t at path; it returns the first unknown key.
// Values whose type decodes itself from a scalar or a sequence (Duration, QueryStringsConfig's
// "all") are left to their UnmarshalYAML; a mapping is checked wherever a struct receives it.
func checkFields(n *yaml.Node, t reflect.Type, path string) *unknownField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch {
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			if p := checkFields(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != nil {
				return p
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if p := checkFields(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); p != nil {
				return p
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Value == "<<" { // a merge key: its mapping is checked as if written here
				if p := checkFields(n.Content[i+1], t, path); p != nil {
					return p
				}
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				if len(fields) == 0 {
					return nil // a type with no yaml fields decodes its own mappings
				}
				return &unknownField{path: path, key: k, known: sortedKeys(fields)}
			}
			if p := checkFields(n.Content[i+1], ft, join(path, k.Value)); p != nil {
				return p
			}
		}
	}
	return nil
}

// structFields maps the yaml names of t's fields to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" && f.IsExported() {
			m[tag] = f.Type
		}
	}
	return m
}

func sortedKeys(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest returns the known name nearest to s, if it is near enough to be a typo: at most a
// third of its letters apart (max_tll, query_string and header all qualify), and the only one
// at that distance.
func closest(s string, known []string) string {
	best, bestD, tie := "", len(s)/3+1, false
	for _, k := range known {
		d := editDistance(s, k)
		switch {
		case d < bestD:
			best, bestD, tie = k, d, false
		case d == bestD && best != "":
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in bytes (field names are
// ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
