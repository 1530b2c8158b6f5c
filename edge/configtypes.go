package edge

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
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
		if secs >= float64(math.MaxInt64)/float64(time.Second) {
			return nodeErr(n, "duration %q is too long (at most about 292 years)", n.Value)
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

// UnmarshalYAML accepts "all" or a list of names.
func (l *NameList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "all" {
		l.All = true
		return nil
	}
	if n.Kind != yaml.SequenceNode || n.Decode(&l.Names) != nil {
		return nodeErr(n, "want all or a list of names")
	}
	for _, name := range l.Names {
		if name == "" {
			return nodeErr(n, "empty name")
		}
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
	return n.Decode((*plain)(a)) // unknown fields: see unknownFields
}

// UnmarshalYAML remembers where the origin was written, for error messages.
func (o *OriginConfig) UnmarshalYAML(n *yaml.Node) error {
	o.node = n
	type plain OriginConfig
	return n.Decode((*plain)(o))
}

// UnmarshalYAML remembers where the behavior was written, for error messages.
func (b *BehaviorConfig) UnmarshalYAML(n *yaml.Node) error {
	b.node = n
	type plain BehaviorConfig
	return n.Decode((*plain)(b))
}

// UnmarshalYAML remembers where the function was written, for error messages.
func (f *FunctionConfig) UnmarshalYAML(n *yaml.Node) error {
	f.node = n
	type plain FunctionConfig
	return n.Decode((*plain)(f))
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

// yamlError rewrites the decoder's "line N: problem" messages, one per problem, as
// "FILE:N: FIELD: problem" (where names FIELD; see where). A message that already names its
// field (an unknown one) keeps its words.
func yamlError(file string, data []byte, err error) error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		doc = yaml.Node{} // a syntax error: there are no fields to name
	}
	lines := make(map[int][]field) // by the line of the key and of the value
	walkFields(&doc, "", func(f field) {
		lines[f.k.Line] = append(lines[f.k.Line], f)
		if f.v.Line != f.k.Line {
			lines[f.v.Line] = append(lines[f.v.Line], f)
		}
	})
	col := 0
	problems := []string{err.Error()}
	var pe *posError
	var te *yaml.TypeError
	switch {
	case errors.As(err, &pe):
		col = pe.col
	case errors.As(err, &te):
		problems = te.Errors // one per problem, whatever the values they quote hold
	}
	for i, p := range problems {
		m := yamlLineRE.FindStringSubmatch(p)
		if m == nil {
			problems[i] = file + ": " + strings.TrimSpace(p) // the parser says where only sometimes
			continue
		}
		line, _ := strconv.Atoi(m[1])
		field := where(lines[line], line, col, m[2])
		if field == "" {
			problems[i] = fmt.Sprintf("%s:%s: %s", file, m[1], configWords(m[2]))
		} else {
			problems[i] = fmt.Sprintf("%s:%s: %s: %s", file, m[1], field, configWords(m[2]))
		}
	}
	return fmt.Errorf("config: %s", strings.Join(problems, "\n"))
}

// yamlIntoRE is the Go type that ends the decoder's "cannot unmarshal !!map into
// []edge.OriginConfig".
var yamlIntoRE = regexp.MustCompile(` into (\S+)$`)

// configWords says what the decoder's type error wanted in the configuration's words, not Go's:
// "cannot unmarshal !!map: want a list", never "into []edge.OriginConfig".
func configWords(problem string) string {
	m := yamlIntoRE.FindStringSubmatchIndex(problem)
	if m == nil || !strings.HasPrefix(problem, "cannot unmarshal ") {
		return problem
	}
	goType := problem[m[2]:m[3]]
	want := "a mapping of fields"
	switch {
	case strings.HasPrefix(goType, "[]"):
		want = "a list"
	case strings.HasPrefix(goType, "map["):
		want = "a mapping"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		want = "a whole number"
	case strings.HasPrefix(goType, "float"):
		want = "a number"
	case goType == "bool":
		want = "true or false"
	case goType == "string":
		want = "a single value"
	}
	return problem[:m[0]] + ": want " + want
}

var (
	// The decoder's "cannot unmarshal !!str `lots` into int": the kind of node, and its value
	// for a scalar, shortened to seven characters and "..." when long.
	yamlTypeRE = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into ")
	// The decoder's `mapping key "url" already defined at line 3`.
	yamlDupRE = regexp.MustCompile(`^mapping key "((?:[^"\\]|\\.)*)" already defined`)
)

// field is one key and its value in the document, with its path (origins[0].url).
type field struct {
	path string
	k, v *yaml.Node
}

// where names the field that problem, reported at line (and column col, when not 0), is
// about, among the fields written on that line: the one value there of the kind and value the
// problem quotes, or the repeated key of a duplicate. It names none when several fit, or when
// the value carries an anchor (the decoder reports an alias's problems at its anchor).
func where(fields []field, line, col int, problem string) string {
	want := func(n *yaml.Node) bool { return n.Line == line && (col == 0 || n.Column == col) }
	key := false
	if m := yamlDupRE.FindStringSubmatch(problem); m != nil {
		name, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil {
			return ""
		}
		want, key = func(n *yaml.Node) bool { return n.Line == line && n.Value == name }, true
	} else if m := yamlTypeRE.FindStringSubmatch(problem); m != nil {
		kind, value, quoted := m[1], m[2], strings.Contains(problem, "`")
		want = func(n *yaml.Node) bool {
			if n.Line != line {
				return false
			}
			switch kind {
			case "map":
				return n.Kind == yaml.MappingNode
			case "seq":
				return n.Kind == yaml.SequenceNode
			}
			if n.Kind != yaml.ScalarNode || !quoted {
				return n.Kind == yaml.ScalarNode
			}
			if prefix, cut := strings.CutSuffix(value, "..."); cut && len(n.Value) > 10 {
				return strings.HasPrefix(n.Value, prefix)
			}
			return n.Value == value
		}
	}
	var found []string
	var anchored bool
	for _, f := range fields {
		n := f.v
		if key {
			n = f.k
		}
		if want(n) && !slices.Contains(found, f.path) { // a repeated key: two nodes, one field
			found = append(found, f.path)
			anchored = anchored || f.v.Anchor != ""
		}
	}
	if len(found) != 1 || anchored {
		return ""
	}
	return found[0]
}

// walkFields calls fn with every field under n, path being n's own.
func walkFields(n *yaml.Node, path string, fn func(field)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkFields(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			fn(field{p, k, v})
			walkFields(v, p, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkFields(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// keyLine returns the line of the field keys leads to from mapping n (cache, min_ttl); if it
// was not written, the line of the deepest part of it that was, or n's own line.
func keyLine(n *yaml.Node, keys ...string) int {
	if n == nil {
		return 0
	}
	line := n.Line
	for _, key := range keys {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
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
