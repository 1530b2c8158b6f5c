package registry

import (
	"bytes"
	"strconv"
)

// function merges a function record: last writer wins; LastVersion is a high-water mark
// and takes the maximum of both sides (and of the function's Mark).
func (m *merger) function(f Function) error {
	// The mark is a high-water of everything seen, dead records included, so that it does
	// not depend on the order a record and its tombstone arrive in.
	if err := m.mark(f.Name, f.LastVersion, Stamp{}); err != nil {
		return err
	}
	if d, err := m.dead(f.Name, f.Stamp, "", ""); d || err != nil {
		return err
	}
	mk, err := m.getMark(f.Name)
	if err != nil {
		return err
	}
	b := m.tx.Bucket(bFunctions)
	var old Function
	found, err := getJSON(b, []byte(f.Name), &old)
	if err != nil {
		return err
	}
	next := f
	if found && !newer(f.Stamp, canon(f), old.Stamp, canon(old)) {
		next = old
	}
	next.LastVersion = max(f.LastVersion, old.LastVersion, mk.Versions)
	if found && bytes.Equal(canon(next), canon(old)) {
		return nil
	}
	next.Revision = m.rev
	m.note("function " + f.Name)
	return putJSON(b, []byte(f.Name), next)
}

// version merges a published version: versions are immutable and merge by union; a number
// published concurrently on two nodes is resolved by settle.
func (m *merger) version(v Version) error {
	if m.accept != nil && m.accept(v) != nil {
		return nil // refused: unsigned or badly signed while the fleet signs
	}
	if m.accept != nil { // accepted: a copy this node set aside unsigned is not needed any more
		if err := m.tx.Bucket(bQuar).Delete(shadowKey(v.Function, v.Number, v.Node)); err != nil {
			return err
		}
	}
	if err := m.mark(v.Function, v.Number, Stamp{}); err != nil {
		return err
	}
	return m.settle(v.Function, v.Number, &v)
}

// settle recomputes who holds number n of function name, adding incoming if given: of the
// live versions published under that number (one per publishing node), the one with the
// smaller publish stamp (HLC, then node) is the number's winner (bVersions); the others
// stay, shadowed (bShadow), reachable through the references pinned to them.
func (m *merger) settle(name string, n int, incoming *Version) error {
	vb, sb := m.tx.Bucket(bVersions), m.tx.Bucket(bShadow)
	current := map[string][]byte{} // bucket name + key -> canon
	byNode := map[string]Version{}
	add := func(v Version) {
		if old, ok := byNode[v.Node]; ok && !replaces(v, old) {
			return
		}
		byNode[v.Node] = v
	}
	var w Version
	if found, err := getJSON(vb, versionKey(name, n), &w); err != nil {
		return err
	} else if found {
		current["v"+string(versionKey(name, n))] = canon(w)
		add(w)
	}
	err := scanPrefix(sb, string(versionKey(name, n)), func(v Version) {
		current["s"+string(shadowKey(name, n, v.Node))] = canon(v)
		add(v)
	})
	if err != nil {
		return err
	}
	if incoming != nil {
		add(*incoming)
	}
	var live []Version
	for node, v := range byNode {
		d, err := m.dead(name, versionStamp(v), "version", versionTombKey(name, n, node))
		if err != nil {
			return err
		}
		if !d {
			live = append(live, v)
		}
	}
	sortVersions(live)
	desired := map[string][]byte{}
	for i, v := range live {
		if i == 0 {
			desired["v"+string(versionKey(name, n))] = canon(v)
		} else {
			desired["s"+string(shadowKey(name, n, v.Node))] = canon(v)
		}
	}
	if sameMap(current, desired) {
		return nil
	}
	for k := range current {
		bk := map[byte][]byte{'v': bVersions, 's': bShadow}[k[0]]
		if err := m.tx.Bucket(bk).Delete([]byte(k[1:])); err != nil {
			return err
		}
	}
	for i, v := range live {
		v.Revision = m.rev
		bk, key := bVersions, versionKey(name, n)
		if i > 0 {
			bk, key = bShadow, shadowKey(name, n, v.Node)
		}
		if err := putJSON(m.tx.Bucket(bk), key, v); err != nil {
			return err
		}
	}
	m.note("version " + name + ":" + strconv.Itoa(n))
	return nil
}

// replaces reports whether version record a beats b, both of one publish (function, number,
// node): the greater stamp, then the signed one (a node that gets the fleet's private key
// signs the versions it held unsigned, and that record must win on every node, in whatever
// order the two arrive), then the greater encoding.
func replaces(a, b Version) bool {
	if c := versionStamp(a).Compare(versionStamp(b)); c != 0 {
		return c > 0
	}
	if (a.Manifest == nil) != (b.Manifest == nil) {
		return a.Manifest != nil
	}
	return bytes.Compare(canon(a), canon(b)) > 0
}

func sameMap(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func shadowKey(name string, n int, node string) []byte {
	return append(versionKey(name, n), append([]byte{0}, node...)...)
}

// alias merges an alias: last writer wins, unless a newer deletion shadows it.
func (m *merger) alias(a Alias) error {
	if d, err := m.dead(a.Function, a.Stamp, "alias", a.Function+"\x00"+a.Name); d || err != nil {
		return err
	}
	return lww(m, bAliases, pairKey(a.Function, a.Name), a, a.Stamp, func(o Alias) Stamp { return o.Stamp }, "alias "+a.Function+":"+a.Name)
}

// association merges an association: last writer wins, unless a newer deletion shadows it.
func (m *merger) association(a Association) error {
	if d, err := m.dead("", a.Stamp, "association", a.Behavior+"\x00"+a.Event); d || err != nil {
		return err
	}
	return lww(m, bAssoc, pairKey(a.Behavior, a.Event), a, a.Stamp, func(o Association) Stamp { return o.Stamp }, "association "+a.Behavior+" "+a.Event)
}

// lww stores rec under key unless the stored record beats it.
func lww[T any](m *merger, bk, key []byte, rec T, st Stamp, stampOf func(T) Stamp, what string) error {
	var old T
	found, err := getJSON(m.tx.Bucket(bk), key, &old)
	if err != nil {
		return err
	}
	if found && !newer(st, canon(rec), stampOf(old), canon(old)) {
		return nil
	}
	setRevision(&rec, m.rev)
	m.note(what)
	return putJSON(m.tx.Bucket(bk), key, rec)
}

func setRevision(rec any, rev uint64) {
	switch r := rec.(type) {
	case *Alias:
		r.Revision = rev
	case *Association:
		r.Revision = rev
	}
}
