package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// merger applies remote records inside one write transaction. Its rules make the merge
// commutative, associative and idempotent (see the package doc): every record either is
// the greatest of its key or can never become it again, so dropping it is safe.
type merger struct {
	tx      *bolt.Tx
	rev     uint64 // the local revision this merge writes
	changed []string
	// accept, when set, refuses versions that may not enter (signing); nil accepts all.
	accept func(Version) error
	// cutoff, when not 0, is the HLC wall time (ns) before which tombstones are compacted:
	// an older tombstone is not stored again (a function's becomes its Mark's Floor).
	cutoff int64
}

func (m *merger) note(what string) { m.changed = append(m.changed, what) }

// apply merges w: marks and tombstones first (they only ever grow), then the records they
// may shadow.
func (m *merger) apply(w *wire) error {
	for _, mk := range w.Marks {
		if err := m.mark(mk.Function, mk.Versions, mk.Floor); err != nil {
			return err
		}
	}
	for _, t := range w.Tombstones {
		if err := m.tombstone(t); err != nil {
			return err
		}
	}
	for _, f := range w.Functions {
		if err := m.function(f); err != nil {
			return err
		}
	}
	for _, v := range w.Versions {
		if err := m.version(v); err != nil {
			return err
		}
	}
	for _, a := range w.Aliases {
		if err := m.alias(a); err != nil {
			return err
		}
	}
	for _, a := range w.Associations {
		if err := m.association(a); err != nil {
			return err
		}
	}
	return nil
}

// canon is a record's encoding without its local revision, for tiebreaks and equality.
func canon(v any) []byte {
	switch r := v.(type) {
	case Function:
		r.Revision = 0
		v = r
	case Version:
		r.Revision = 0
		v = r
	case Alias:
		r.Revision = 0
		v = r
	case Association:
		r.Revision = 0
		v = r
	case Tombstone:
		r.Revision = 0
		v = r
	}
	b, _ := json.Marshal(v)
	return b
}

func (m *merger) getMark(name string) (Mark, error) {
	mk := Mark{Function: name}
	_, err := getJSON(m.tx.Bucket(bMarks), []byte(name), &mk)
	return mk, err
}

// mark raises function name's high-water marks to at least versions and floor.
func (m *merger) mark(name string, versions int, floor Stamp) error {
	mk, err := m.getMark(name)
	if err != nil {
		return err
	}
	raisedFloor := floor.Compare(mk.Floor) > 0
	if versions <= mk.Versions && !raisedFloor {
		return nil
	}
	mk.Versions = max(mk.Versions, versions)
	if raisedFloor {
		floor.Revision = 0
		mk.Floor = floor
	}
	if err := putJSON(m.tx.Bucket(bMarks), []byte(name), mk); err != nil {
		return err
	}
	m.note("mark " + name)
	var f Function
	if found, err := getJSON(m.tx.Bucket(bFunctions), []byte(name), &f); err != nil {
		return err
	} else if found && f.LastVersion < mk.Versions {
		f.LastVersion = mk.Versions
		if err := putJSON(m.tx.Bucket(bFunctions), []byte(name), f); err != nil {
			return err
		}
	}
	if raisedFloor {
		return m.killFunction(name, func(s Stamp) bool { return mk.Floor.Compare(s) >= 0 })
	}
	return nil
}

// dead reports whether a record of function name with stamp st is shadowed by the
// function's tombstone or floor, or by the tombstone (kind, key) when kind is not empty.
func (m *merger) dead(name string, st Stamp, kind, key string) (bool, error) {
	mk, err := m.getMark(name)
	if err != nil || (!mk.Floor.Time.IsZero() && mk.Floor.Compare(st) >= 0) {
		return true, err
	}
	for _, k := range [][2]string{{"function", name}, {kind, key}} {
		if k[0] == "" || (name == "" && k[0] == "function") {
			continue
		}
		var t Tombstone
		found, err := getJSON(m.tx.Bucket(bTombs), tombKey(k[0], k[1]), &t)
		if err != nil {
			return true, err
		}
		if found && t.Stamp.Compare(st) >= 0 {
			return true, nil
		}
	}
	return false, nil
}

// tombstone records t if it is the newest of its key and deletes what it shadows.
func (m *merger) tombstone(t Tombstone) error {
	if m.cutoff != 0 && t.Time.UnixNano() < m.cutoff {
		if t.Kind == "function" {
			return m.mark(t.Key, 0, t.Stamp)
		}
		return nil
	}
	b := m.tx.Bucket(bTombs)
	var old Tombstone
	found, err := getJSON(b, tombKey(t.Kind, t.Key), &old)
	if err != nil {
		return err
	}
	if found && !newer(t.Stamp, canon(t), old.Stamp, canon(old)) {
		return nil
	}
	t.Revision = m.rev
	if err := putJSON(b, tombKey(t.Kind, t.Key), t); err != nil {
		return err
	}
	m.note("tombstone " + t.Kind + " " + strings.ReplaceAll(t.Key, "\x00", "/"))
	older := func(s Stamp) bool { return t.Stamp.Compare(s) >= 0 }
	parts := splitKey(t.Key)
	switch t.Kind {
	case "function":
		return m.killFunction(parts[0], older)
	case "version":
		n, _ := VersionNumber(parts[1])
		return m.settle(parts[0], n, nil)
	case "alias":
		return m.deleteIf(bAliases, pairKey(parts[0], parts[1]), func(a Alias) bool { return older(a.Stamp) })
	case "association":
		return m.deleteIf(bAssoc, pairKey(parts[0], parts[1]), func(a Association) bool { return older(a.Stamp) })
	}
	return nil
}

// killFunction deletes function name's record, versions and aliases whose stamps match.
func (m *merger) killFunction(name string, match func(Stamp) bool) error {
	if err := m.deleteIf(bFunctions, []byte(name), func(f Function) bool { return match(f.Stamp) }); err != nil {
		return err
	}
	numbers := map[int]bool{}
	for _, bk := range [][]byte{bVersions, bShadow} {
		if err := scanPrefix(m.tx.Bucket(bk), name, func(v Version) { numbers[v.Number] = true }); err != nil {
			return err
		}
	}
	for n := range numbers {
		if err := m.settle(name, n, nil); err != nil {
			return err
		}
	}
	var keys [][]byte
	if err := scanPrefix(m.tx.Bucket(bAliases), name, func(a Alias) {
		if match(a.Stamp) {
			keys = append(keys, pairKey(a.Function, a.Name))
		}
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := m.tx.Bucket(bAliases).Delete(k); err != nil {
			return err
		}
		m.note("delete alias " + string(bytes.ReplaceAll(k, []byte{0}, []byte{':'})))
	}
	return nil
}

func deleteIfT[T any](m *merger, bk, key []byte, match func(T) bool) error {
	var r T
	found, err := getJSON(m.tx.Bucket(bk), key, &r)
	if err != nil || !found || !match(r) {
		return err
	}
	m.note("delete " + string(bk) + " " + string(bytes.ReplaceAll(key, []byte{0}, []byte{'/'})))
	return m.tx.Bucket(bk).Delete(key)
}

// deleteIf is deleteIfT for the record types the merger knows.
func (m *merger) deleteIf(bk, key []byte, match any) error {
	switch fn := match.(type) {
	case func(Function) bool:
		return deleteIfT(m, bk, key, fn)
	case func(Alias) bool:
		return deleteIfT(m, bk, key, fn)
	case func(Association) bool:
		return deleteIfT(m, bk, key, fn)
	}
	return fmt.Errorf("registry: deleteIf: unknown record type %T", match)
}

// scanPrefix decodes the records of b whose keys start with prefix and \x00.
func scanPrefix[T any](b *bolt.Bucket, prefix string, fn func(T)) error {
	p := []byte(prefix + "\x00")
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		var r T
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("registry: decoding %q: %w", k, err)
		}
		fn(r)
	}
	return nil
}

func splitKey(k string) []string { return strings.Split(k, "\x00") }

// sortVersions orders the candidates for one number: the smaller publish stamp first.
func sortVersions(vs []Version) {
	sort.Slice(vs, func(i, j int) bool {
		if c := versionStamp(vs[i]).Compare(versionStamp(vs[j])); c != 0 {
			return c < 0
		}
		return bytes.Compare(canon(vs[i]), canon(vs[j])) < 0
	})
}
