package jsruntime

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/go-sourcemap/sourcemap"
)

// FuzzSourceMapColumns: VLQ values survive encoding and decoding, and a map made one-based by
// oneBasedColumns finds, at each 1-based column, what the original finds at the 0-based one,
// with the original column plus one (checked for maps whose segments all have a source: one
// of a single value has none).
func FuzzSourceMapColumns(f *testing.F) {
	for _, s := range []string{"AAAA,gCASI,CAUA", "AAAA;;AACA,EAAE,GAAG;AAAA", "gC;GAAGA,K", "A", "+/+/A", "AAAAA,CAAC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, mappings string) {
		if v, ok := decodeVLQ(mappings); ok {
			if got, ok := decodeVLQ(encodeVLQ(v)); !ok || !slices.Equal(got, v) {
				t.Fatalf("%v encoded and decoded is %v", v, got)
			}
		}
		data, _ := json.Marshal(map[string]any{"version": 3, "sources": []string{"a.ts"}, "names": []string{"n"}, "mappings": mappings})
		orig, err := sourcemap.Parse("/var/task/index.js", data)
		if err != nil {
			return
		}
		oneData, ok := oneBasedColumns(data)
		if !ok {
			return
		}
		one, err := sourcemap.Parse("/var/task/index.js", oneData)
		if err != nil {
			t.Fatalf("the one-based map does not parse: %v", err)
		}
		for _, seg := range strings.FieldsFunc(mappings, func(r rune) bool { return r == ',' || r == ';' }) {
			if v, ok := decodeVLQ(seg); !ok || (len(v) != 4 && len(v) != 5) {
				return
			}
		}
		for line := 1; line <= 4; line++ {
			for col := 0; col <= 40; col++ {
				s0, _, l0, c0, ok0 := orig.Source(line, col)
				s1, _, l1, c1, ok1 := one.Source(line, col+1)
				if ok0 != ok1 || s0 != s1 || l0 != l1 || (ok0 && c1 != c0+1) {
					t.Fatalf("%d:%d: %q %d:%d %v, one-based %q %d:%d %v", line, col, s0, l0, c0, ok0, s1, l1, c1, ok1)
				}
			}
		}
	})
}
