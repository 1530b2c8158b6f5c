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

// posError is an error at a line of the YAML document; yamlError adds the file name.
type posError struct {
	line int
	msg  string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func nodeErr(n *yaml.Node, format string, args ...any) error {
	return &posError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

var yamlLineRE = regexp.MustCompile(`(?m)^\s*(?:yaml: )?line (\d+): `)

// yamlError rewrites the decoder's "line N: ..." messages as "FILE:N: ...", one per line.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
	msg = yamlLineRE.ReplaceAllString(msg, file+":$1: ")
	return fmt.Errorf("config: %s", strings.TrimSpace(msg))
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

// keyLine returns the line of key in mapping n, or n's own line.
func keyLine(n *yaml.Node, key string) int {
	if n == nil {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}
