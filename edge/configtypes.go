package edge

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "30s"/"24h" or as a number of seconds.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeErr(n, "want a duration such as 30s or a number of seconds")
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		if secs < 0 {
			return nodeErr(n, "duration %q is negative", n.Value)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return nodeErr(n, "invalid duration %q (want e.g. 30s, 5m, 24h, or a number of seconds)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ByteSize is a size in bytes written as a number or with a unit: "512KiB", "256MiB", "1GB".
type ByteSize int64

var sizeRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?\s*$`)

var sizeUnits = map[string]float64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	m := sizeRE.FindStringSubmatch(n.Value)
	if n.Kind != yaml.ScalarNode || m == nil {
		return nodeErr(n, "invalid size %q (want e.g. 1048576, 512KiB, 256MiB, 1GB)", n.Value)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	*b = ByteSize(v * sizeUnits[m[2]])
	return nil
}

// UnmarshalYAML accepts "none", "all", {allow: [...]} or {deny: [...]}.
func (q *QueryStringsConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "none", "all":
			q.Mode = n.Value
			return nil
		}
		return nodeErr(n, "query_strings %q: want none, all, {allow: [names]} or {deny: [names]}", n.Value)
	}
	var m map[string][]string
	if err := n.Decode(&m); err != nil || len(m) != 1 {
		return nodeErr(n, "query_strings: want none, all, {allow: [names]} or {deny: [names]}")
	}
	for mode, names := range m {
		if mode != "allow" && mode != "deny" {
			return nodeErr(n, "query_strings: unknown mode %q (want allow or deny)", mode)
		}
		q.Mode, q.Names = mode, names
	}
	return nil
}

// UnmarshalYAML accepts a function name or a mapping with function, include_body and timeout.
func (a *AssociationConfig) UnmarshalYAML(n *yaml.Node) error {
	a.node = n
	if n.Kind == yaml.ScalarNode {
		a.Function = n.Value
		return nil
	}
	type plain AssociationConfig
	return decodeStrict(n, (*plain)(a))
}

// UnmarshalYAML remembers where the origin was written, for error messages.
func (o *OriginConfig) UnmarshalYAML(n *yaml.Node) error {
	o.node = n
	type plain OriginConfig
	return decodeStrict(n, (*plain)(o))
}

// UnmarshalYAML remembers where the behavior was written, for error messages.
func (b *BehaviorConfig) UnmarshalYAML(n *yaml.Node) error {
	b.node = n
	type plain BehaviorConfig
	return decodeStrict(n, (*plain)(b))
}

// UnmarshalYAML remembers where the function was written, for error messages.
func (f *FunctionConfig) UnmarshalYAML(n *yaml.Node) error {
	f.node = n
	type plain FunctionConfig
	return decodeStrict(n, (*plain)(f))
}

// decodeStrict decodes n into v refusing unknown fields, which a plain n.Decode inside a custom
// unmarshaler would silently accept.
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind == yaml.MappingNode {
		known := yamlFields(v)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[k.Value] {
				return nodeErr(k, "unknown field %q", k.Value)
			}
		}
	}
	return n.Decode(v)
}

// posError is an error at a node of the YAML document; yamlError adds the file and the field.
type posError struct {
	line, col int
	msg       string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func nodeErr(n *yaml.Node, format string, args ...any) error {
	return &posError{line: n.Line, col: n.Column, msg: fmt.Sprintf(format, args...)}
}

var yamlLineRE = regexp.MustCompile(`^\s*(?:yaml: )?line (\d+): (.*)$`)

// yamlError rewrites the decoder's "line N: problem" messages, one per line, as
// "FILE:N: FIELD: problem". The decoder's own type errors give only a line and the value, so
// FIELD is the field on that line holding that value in data; a message that already names its
// field (an unknown one) is left as it is.
func yamlError(file string, data []byte, err error) error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		doc = yaml.Node{} // a syntax error: there are no fields to name
	}
	col := 0
	if pe, ok := err.(*posError); ok {
		col = pe.col
	}
	lines := strings.Split(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"), "\n")
	for i, l := range lines {
		m := yamlLineRE.FindStringSubmatch(l)
		if m == nil {
			lines[i] = file + ": " + strings.TrimSpace(l) // the parser says where only sometimes
			continue
		}
		line, _ := strconv.Atoi(m[1])
		var value string
		if v := yamlValueRE.FindStringSubmatch(m[2]); v != nil {
			value = v[1]
		}
		field := fieldAt(&doc, "", at{line, col, value})
		if field == "" || strings.Contains(m[2], "not found in type") || strings.HasPrefix(m[2], "unknown field") {
			lines[i] = fmt.Sprintf("%s:%s: %s", file, m[1], m[2])
		} else {
			lines[i] = fmt.Sprintf("%s:%s: %s: %s", file, m[1], field, m[2])
		}
	}
	return fmt.Errorf("config: %s", strings.TrimSpace(strings.Join(lines, "\n")))
}

// yamlValueRE finds the value in the decoder's "cannot unmarshal !!str `lots` into int"; the
// decoder shortens a long one to its first seven characters and "...".
var yamlValueRE = regexp.MustCompile("`([^`]*)`")

// at is where an error points: a line, and a column or the value there when known (0, "").
type at struct {
	line, col int
	value     string
}

func (a at) matches(v *yaml.Node) bool {
	if v.Line != a.line || (a.col != 0 && v.Column != a.col) {
		return false
	}
	if a.value == "" {
		return true
	}
	if prefix, cut := strings.CutSuffix(a.value, "..."); cut {
		return v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, prefix)
	}
	return v.Kind == yaml.ScalarNode && v.Value == a.value
}

// fieldAt returns the path (origins[0].read_timeout) of the deepest field in n, below path,
// whose value is where a points; "" if there is none.
func fieldAt(n *yaml.Node, path string, a at) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if f := fieldAt(c, path, a); f != "" {
				return f
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if f := fieldAt(v, p, a); f != "" {
				return f
			}
			if a.matches(v) {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if f := fieldAt(c, fmt.Sprintf("%s[%d]", path, i), a); f != "" {
				return f
			}
		}
	}
	return ""
}

// yamlFields returns the yaml field names of the struct v points to.
func yamlFields(v any) map[string]bool {
	t := reflect.TypeOf(v).Elem()
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			names[tag] = true
		}
	}
	return names
}

// keyLine returns the line of key in mapping n, where key may go deeper ("cache.min_ttl"); if
// the key was not written, the line of the deepest part of it that was, or n's own line.
func keyLine(n *yaml.Node, key string) int {
	if n == nil {
		return 0
	}
	line := n.Line
	for part := range strings.SplitSeq(key, ".") {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil || next.Kind != yaml.MappingNode {
			break
		}
		n = next
	}
	return line
}
