package jsruntime

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/dop251/goja/file"
	"github.com/go-sourcemap/sourcemap"
)

// sourceMap returns the map named by src's `//# sourceMappingURL=` line (its last line that is
// not blank), or nil when there is none or it cannot be read or parsed: positions are then the
// file's own. A relative URL is resolved against name and read with load. The map is checked,
// and its columns made to count from 1 as goja's positions do, by oneBasedColumns.
func sourceMap(name, src string, load func(string) ([]byte, error)) *sourcemap.Consumer {
	const prefix = "//# sourceMappingURL="
	last := strings.TrimRight(src, " \t\r\n")
	last = last[strings.LastIndexByte(last, '\n')+1:]
	url, ok := strings.CutPrefix(last, prefix)
	if !ok {
		return nil
	}
	var data []byte
	var err error
	if rest, ok := strings.CutPrefix(url, "data:application/json"); ok {
		_, b64, _ := strings.Cut(rest, ",")
		data, err = base64.StdEncoding.DecodeString(b64)
	} else if u := file.ResolveSourcemapURL(name, url); u != nil && (u.Scheme == "" || u.Scheme == "file") {
		data, err = load(u.Path)
	} else {
		return nil
	}
	if err != nil {
		return nil
	}
	data, ok = oneBasedColumns(data)
	if !ok {
		return nil
	}
	m, err := sourcemap.Parse(name, data)
	if err != nil {
		return nil
	}
	return m
}

// oneBasedColumns checks a source map and returns it with columns, generated and original,
// that count from 1 rather than from 0, or false for a map to ignore.
//
// The columns: goja looks a position up in a map with its 1-based column and reports the
// original column it finds as it is; with the map's own columns, a position matched the
// mapping one column to its right and came out one column left of Node's. Only the first
// mapping of each line holds its generated column (the others are relative to it), and only
// the first mapping with a source holds its original column, so those are all that change.
//
// The check: the map is user data, and go-sourcemap indexes its sources with a mapping's
// source number unchecked, so a mapping naming a source the map does not list panicked when a
// position was looked up (an error's stack). Such a map, a malformed one (a segment of 2, 3
// or over 5 values) and an index map (sections, whose maps are not checked) are ignored. A
// segment of one value maps to no source: what goja reports for it means nothing, with or
// without the change.
func oneBasedColumns(data []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	var mappings string
	var sources []json.RawMessage
	if json.Unmarshal(data, &m) != nil || json.Unmarshal(m["mappings"], &mappings) != nil ||
		json.Unmarshal(m["sources"], &sources) != nil || m["sections"] != nil {
		return nil, false
	}
	lines := strings.Split(mappings, ";")
	sourced := false
	source := 0
	for i, line := range lines {
		segs := strings.Split(line, ",")
		first := true // no segment of the line has been seen yet (empty ones are none)
		for j, seg := range segs {
			v, ok := decodeVLQ(seg)
			if !ok || (seg != "" && len(v) != 1 && len(v) != 4 && len(v) != 5) {
				return nil, false
			}
			if len(v) >= 4 {
				if source += v[1]; source < 0 || source >= len(sources) {
					return nil, false
				}
			}
			if len(v) == 0 || (!first && sourced) {
				continue
			}
			if first {
				v[0]++
				first = false
			}
			if !sourced && len(v) >= 4 {
				v[3]++
				sourced = true
			}
			segs[j] = encodeVLQ(v)
		}
		lines[i] = strings.Join(segs, ",")
	}
	out, err := json.Marshal(strings.Join(lines, ";"))
	if err != nil {
		return nil, false
	}
	m["mappings"] = out
	b, err := json.Marshal(m)
	return b, err == nil
}

const vlqDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeVLQ decodes one segment of a source map's mappings: base64 digits of five bits each,
// least significant first, the sixth bit saying another digit follows, and a value's lowest bit
// its sign. It reports false for a digit outside the alphabet, a value cut short or one over
// 31 bits.
func decodeVLQ(seg string) ([]int, bool) {
	var out []int
	n, shift := 0, 0
	for i := 0; i < len(seg); i++ {
		d := strings.IndexByte(vlqDigits, seg[i])
		if d < 0 || shift > 30 {
			return nil, false
		}
		n |= (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		v := n >> 1
		if n&1 != 0 {
			v = -v
		}
		out = append(out, v)
		n, shift = 0, 0
	}
	return out, shift == 0
}

// encodeVLQ encodes values as decodeVLQ decodes them.
func encodeVLQ(vals []int) string {
	var b strings.Builder
	for _, v := range vals {
		n := v << 1
		if v < 0 {
			n = -v<<1 | 1
		}
		for {
			d := n & 31
			n >>= 5
			if n > 0 {
				d |= 32
			}
			b.WriteByte(vlqDigits[d])
			if n == 0 {
				break
			}
		}
	}
	return b.String()
}
