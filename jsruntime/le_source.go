package jsruntime

import (
	"encoding/json"
	"slices"
)

// leShapeSet replaces the default shapes of a Lambda@Edge event built for an event file
// (verge fn test), so that JSON.stringify(event) shows the file's key order, and config
// fields the file leaves out (requestId, say) stay out, as in the Lambda console. Keys the
// file lacks elsewhere keep their default place after the file's keys: the result is read
// through them.
type leShapeSet map[*leShape]*leShape

// shapeFor returns the shape to use instead of s.
func (e *leEvent) shapeFor(s *leShape) *leShape {
	if r, ok := e.shapes[s]; ok {
		return r
	}
	return s
}

// leShapesFromSource derives the shapes of the event file src. A file that does not decode
// keeps the default shapes (ParseEvent has accepted it, so this does not happen).
func leShapesFromSource(src []byte) leShapeSet {
	var root ordered
	if json.Unmarshal(src, &root) != nil {
		return nil
	}
	set := leShapeSet{}
	set.reorder(&shapeRoot, root, false)
	var recs []ordered
	if json.Unmarshal(memberVal(root, "Records"), &recs) != nil || len(recs) == 0 {
		return set
	}
	set.reorder(&shapeRecord, recs[0], false)
	var cf ordered
	if json.Unmarshal(memberVal(recs[0], "cf"), &cf) != nil {
		return set
	}
	set.reorder(&shapeCF, cf, false)
	set.reorder(&shapeCFResp, cf, false)
	var cfg, req, resp ordered
	if json.Unmarshal(memberVal(cf, "config"), &cfg) == nil {
		set.reorder(&shapeConfig, cfg, true)
	}
	if json.Unmarshal(memberVal(cf, "request"), &req) == nil {
		for b := range shapeRequest {
			for o := range shapeRequest[b] {
				set.reorder(&shapeRequest[b][o], req, false)
			}
		}
	}
	if json.Unmarshal(memberVal(cf, "response"), &resp) == nil {
		set.reorder(&shapeResponse, resp, false)
	}
	return set
}

// reorder records def with its keys in the order of file: keys the file lacks follow, or
// with omit are left out.
func (set leShapeSet) reorder(def *leShape, file ordered, omit bool) {
	var s leShape
	for _, m := range file {
		if i := slices.Index(def.keys, m.Key); i >= 0 && !slices.Contains(s.keys, m.Key) {
			s.keys, s.fields = append(s.keys, m.Key), append(s.fields, def.fields[i])
		}
	}
	if !omit {
		for i, k := range def.keys {
			if !slices.Contains(s.keys, k) {
				s.keys, s.fields = append(s.keys, k), append(s.fields, def.fields[i])
			}
		}
	}
	set[def] = &s
}

func memberVal(o ordered, key string) json.RawMessage {
	for _, m := range o {
		if m.Key == key {
			return m.Val
		}
	}
	return nil
}
