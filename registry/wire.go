package registry

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/vergecdn/verge/hooks"
)

// Wire format of snapshots and deltas (the same shape: a delta is a small snapshot):
//
//	'R' | format version (1) | JSON of wire
//
// Records travel without their local Revision. Decoding is bounded by the Replica's
// MaxStateBytes and checks every record (names, numbers, hashes) before a merge sees it.
const (
	wireMagic   = 'R'
	wireVersion = 1
	// maxRecords bounds the records of one message, whatever its size.
	maxRecords = 1 << 16
)

// wire is a set of records: a whole state or a delta.
type wire struct {
	Node         string        `json:"node,omitempty"` // the sender, for the audit log
	Functions    []Function    `json:"functions,omitempty"`
	Versions     []Version     `json:"versions,omitempty"` // numbers' winners and shadowed ones
	Aliases      []Alias       `json:"aliases,omitempty"`
	Associations []Association `json:"associations,omitempty"`
	Tombstones   []Tombstone   `json:"tombstones,omitempty"`
	Marks        []Mark        `json:"marks,omitempty"`
}

func (w *wire) len() int {
	return len(w.Functions) + len(w.Versions) + len(w.Aliases) + len(w.Associations) + len(w.Tombstones) + len(w.Marks)
}

// encode returns the canonical encoding: records sorted, revisions zeroed. Two stores hold
// the same state exactly when their canonical snapshots are equal (Digest hashes it).
func (w *wire) encode() ([]byte, error) {
	for i := range w.Functions {
		w.Functions[i].Revision = 0
	}
	for i := range w.Versions {
		w.Versions[i].Revision = 0
	}
	for i := range w.Aliases {
		w.Aliases[i].Revision = 0
	}
	for i := range w.Associations {
		w.Associations[i].Revision = 0
	}
	for i := range w.Tombstones {
		w.Tombstones[i].Revision = 0
	}
	sort.Slice(w.Functions, func(i, j int) bool { return w.Functions[i].Name < w.Functions[j].Name })
	sort.Slice(w.Versions, func(i, j int) bool {
		a, b := w.Versions[i], w.Versions[j]
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		if a.Number != b.Number {
			return a.Number < b.Number
		}
		return a.Node < b.Node
	})
	sort.Slice(w.Aliases, func(i, j int) bool {
		return string(pairKey(w.Aliases[i].Function, w.Aliases[i].Name)) < string(pairKey(w.Aliases[j].Function, w.Aliases[j].Name))
	})
	sort.Slice(w.Associations, func(i, j int) bool {
		a, b := w.Associations[i], w.Associations[j]
		return string(pairKey(a.Behavior, a.Event)) < string(pairKey(b.Behavior, b.Event))
	})
	sort.Slice(w.Tombstones, func(i, j int) bool {
		return string(tombKey(w.Tombstones[i].Kind, w.Tombstones[i].Key)) < string(tombKey(w.Tombstones[j].Kind, w.Tombstones[j].Key))
	})
	w.Marks = keep(w.Marks, func(m Mark) bool { return m.Versions != 0 || !m.Floor.Time.IsZero() })
	for i := range w.Marks {
		w.Marks[i].Floor.Revision = 0
	}
	sort.Slice(w.Marks, func(i, j int) bool { return w.Marks[i].Function < w.Marks[j].Function })
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("registry: encode state: %w", err)
	}
	return append([]byte{wireMagic, wireVersion}, body...), nil
}

// decodeWire parses and checks a snapshot or delta of at most max bytes. It never panics;
// every error wraps ErrInvalid or ErrTooLarge.
func decodeWire(b []byte, max int) (*wire, error) {
	if len(b) > max {
		return nil, &TooLargeError{What: "remote state", Size: int64(len(b)), Limit: int64(max)}
	}
	if len(b) < 2 || b[0] != wireMagic || b[1] != wireVersion {
		return nil, invalid("remote state: unknown format")
	}
	var w wire
	if err := json.Unmarshal(b[2:], &w); err != nil {
		return nil, fmt.Errorf("registry: remote state: %v: %w", err, ErrInvalid)
	}
	if w.len() > maxRecords {
		return nil, &TooLargeError{What: "remote state's record count", Size: int64(w.len()), Limit: maxRecords}
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	return &w, nil
}

// check validates every record of w.
func (w *wire) check() error {
	for _, f := range w.Functions {
		if !ValidName(f.Name) || f.LastVersion < 0 || checkCode(f.Latest) != nil || checkRuntime(f.Runtime) != nil || f.Node == "" {
			return invalid("remote function %q", f.Name)
		}
	}
	for _, v := range w.Versions {
		if !ValidName(v.Function) || v.Number <= 0 || v.Number > 999999999 || checkCode(v.Code) != nil || checkRuntime(v.Runtime) != nil || v.Node == "" {
			return invalid("remote version %q:%d", v.Function, v.Number)
		}
	}
	for _, a := range w.Aliases {
		if !ValidName(a.Function) || !ValidAliasName(a.Name) || a.Version <= 0 || a.AdditionalVersion < 0 ||
			!(a.Weight >= 0 && a.Weight <= 1) || a.Node == "" {
			return invalid("remote alias %q:%q", a.Function, a.Name)
		}
	}
	for _, a := range w.Associations {
		if _, err := NormalizeBehavior(a.Behavior); err != nil || a.Behavior == "*" {
			return invalid("remote association behavior %q", a.Behavior)
		}
		if _, err := ParseEvent(a.Event); err != nil || !ValidName(a.Function) || !ValidQualifier(a.Qualifier) || a.Node == "" {
			return invalid("remote association %q %q", a.Behavior, a.Event)
		}
	}
	for _, t := range w.Tombstones {
		if !validTomb(t) {
			return invalid("remote tombstone %q %q", t.Kind, t.Key)
		}
	}
	for _, m := range w.Marks {
		if !ValidName(m.Function) || m.Versions < 0 || (!m.Floor.Time.IsZero() && m.Floor.Node == "") {
			return invalid("remote mark %q", m.Function)
		}
	}
	return nil
}

func checkCode(c Code) error {
	if !ValidSHA256(c.SHA256) || c.Size < 0 || c.UnpackedSize < 0 || (c.Format != "js" && c.Format != "zip") || len(c.Entry) > 1024 {
		return ErrInvalid
	}
	return nil
}

func checkRuntime(rt string) error {
	if _, err := hooks.CanonicalRuntime(rt); err != nil || rt == "" {
		return ErrInvalid
	}
	return nil
}

func validTomb(t Tombstone) bool {
	if t.Node == "" || t.Time.IsZero() {
		return false
	}
	parts := splitKey(t.Key)
	switch t.Kind {
	case "function":
		return len(parts) == 1 && ValidName(parts[0])
	case "version":
		n, ok := VersionNumber(parts[min(1, len(parts)-1)])
		return len(parts) == 3 && ValidName(parts[0]) && ok && n > 0 && parts[2] != ""
	case "alias":
		return len(parts) == 2 && ValidName(parts[0]) && ValidAliasName(parts[1])
	case "association":
		_, err := ParseEvent(parts[min(1, len(parts)-1)])
		b, berr := NormalizeBehavior(parts[0])
		return len(parts) == 2 && err == nil && berr == nil && b == parts[0]
	}
	return false
}

// versionTombKey is the tombstone key of one published version.
func versionTombKey(name string, n int, node string) string {
	return name + "\x00" + strconv.Itoa(n) + "\x00" + node
}

// readWire reads every replicated record in tx.
func readWire(tx *bolt.Tx) (*wire, error) {
	w := &wire{}
	err := forEach(tx.Bucket(bFunctions), func(f Function) { w.Functions = append(w.Functions, f) })
	if err == nil {
		err = forEach(tx.Bucket(bVersions), func(v Version) { w.Versions = append(w.Versions, v) })
	}
	if err == nil {
		err = forEach(tx.Bucket(bShadow), func(v Version) { w.Versions = append(w.Versions, v) })
	}
	if err == nil {
		err = forEach(tx.Bucket(bAliases), func(a Alias) { w.Aliases = append(w.Aliases, a) })
	}
	if err == nil {
		err = forEach(tx.Bucket(bAssoc), func(a Association) { w.Associations = append(w.Associations, a) })
	}
	if err == nil {
		err = forEach(tx.Bucket(bTombs), func(t Tombstone) { w.Tombstones = append(w.Tombstones, t) })
	}
	if err == nil {
		err = forEach(tx.Bucket(bMarks), func(m Mark) { w.Marks = append(w.Marks, m) })
	}
	return w, err
}
