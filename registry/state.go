package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// State is a consistent copy of the whole registry at one revision. It is a value: the
// caller may keep it and read it freely; it never changes.
type State struct {
	Revision     uint64
	Functions    map[string]Function
	Versions     map[string]map[int]Version  // by function, then number
	Aliases      map[string]map[string]Alias // by function, then alias name
	Associations []Association               // sorted by behavior, then event
	// Shadowed are versions that lost their number to a concurrent publish of the same
	// number on another node (see the package doc), by function. They run only through
	// the aliases and associations pinned to them.
	Shadowed map[string][]Version
}

// Snapshot reads the whole registry in one read transaction.
func (s *Store) Snapshot() (*State, error) {
	var st *State
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		st, err = readState(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry: snapshot: %w", err)
	}
	return st, nil
}

func readState(tx *bolt.Tx) (*State, error) {
	st := &State{Functions: map[string]Function{}, Versions: map[string]map[int]Version{}, Aliases: map[string]map[string]Alias{},
		Shadowed: map[string][]Version{}}
	if v := tx.Bucket(bMeta).Get([]byte("revision")); len(v) == 8 {
		st.Revision = binary.BigEndian.Uint64(v)
	}
	err := forEach(tx.Bucket(bFunctions), func(f Function) { st.Functions[f.Name] = f })
	if err == nil {
		err = forEach(tx.Bucket(bVersions), func(v Version) {
			if st.Versions[v.Function] == nil {
				st.Versions[v.Function] = map[int]Version{}
			}
			st.Versions[v.Function][v.Number] = v
		})
	}
	if err == nil {
		err = forEach(tx.Bucket(bAliases), func(a Alias) {
			if st.Aliases[a.Function] == nil {
				st.Aliases[a.Function] = map[string]Alias{}
			}
			st.Aliases[a.Function][a.Name] = a
		})
	}
	if err == nil {
		err = forEach(tx.Bucket(bAssoc), func(a Association) { st.Associations = append(st.Associations, a) })
	}
	if err == nil {
		err = forEach(tx.Bucket(bShadow), func(v Version) { st.Shadowed[v.Function] = append(st.Shadowed[v.Function], v) })
	}
	return st, err
}

func forEach[T any](b *bolt.Bucket, fn func(T)) error {
	return b.ForEach(func(k, _ []byte) error {
		var v T
		if _, err := getJSON(b, k, &v); err != nil {
			return err
		}
		fn(v)
		return nil
	})
}

// Target is one runnable code: a published version, or $LATEST as it is now.
type Target struct {
	Function string
	Version  string // "7" or Latest
	Runtime  string
	Code     Code
	KVS      string // the KeyValueStore a CloudFront function reads, "" for none
	// Node published the version (for $LATEST: wrote it); Manifest is its signed manifest,
	// if any (never for $LATEST).
	Node     string
	Manifest *Manifest
}

// Resolved is what a qualifier points at: Primary, and with a weighted alias Additional,
// which runs with probability Weight.
type Resolved struct {
	Function, Qualifier string
	Primary             Target
	Additional          *Target
	Weight              float64
}

// Targets lists the resolved targets (one or two).
func (r Resolved) Targets() []Target {
	if r.Additional != nil {
		return []Target{r.Primary, *r.Additional}
	}
	return []Target{r.Primary}
}

// Resolve finds what name:qualifier runs in st. Unknown names, versions or aliases are
// ErrNotFound.
func (st *State) Resolve(name, qualifier string) (Resolved, error) {
	f, ok := st.Functions[name]
	if !ok {
		return Resolved{}, notFound("function %q", name)
	}
	r := Resolved{Function: name, Qualifier: qualifier}
	if qualifier == Latest || qualifier == "" {
		r.Qualifier = Latest
		r.Primary = Target{Function: name, Version: Latest, Runtime: f.Runtime, Code: f.Latest, KVS: f.KVS, Node: f.Node}
		return r, nil
	}
	if n, isNum := VersionNumber(qualifier); isNum {
		t, err := st.version(name, n, "")
		r.Primary = t
		return r, err
	}
	a, ok := st.Aliases[name][qualifier]
	if !ok {
		return Resolved{}, notFound("alias %s:%s", name, qualifier)
	}
	var err error
	if r.Primary, err = st.version(name, a.Version, a.VersionNode); err != nil {
		return Resolved{}, viaAlias(err, name, qualifier)
	}
	if a.AdditionalVersion != 0 {
		t, err := st.version(name, a.AdditionalVersion, a.AdditionalNode)
		if err != nil {
			return Resolved{}, viaAlias(err, name, qualifier)
		}
		r.Additional, r.Weight = &t, a.Weight
	}
	return r, nil
}

// version finds version n of name: the number's winner, or with node set, the version
// that node published under n (the winner or a shadowed one).
func (st *State) version(name string, n int, node string) (Target, error) {
	v, ok := st.Versions[name][n]
	if ok && node != "" && v.Node != node {
		ok = false
		for _, sv := range st.Shadowed[name] {
			if sv.Number == n && sv.Node == node {
				v, ok = sv, true
			}
		}
	}
	if !ok {
		return Target{}, &missingVersionError{function: name, number: n}
	}
	return Target{Function: name, Version: strconv.Itoa(n), Runtime: v.Runtime, Code: v.Code, KVS: v.KVS, Node: v.Node, Manifest: v.Manifest}, nil
}

// viaAlias notes in a missing version's error that alias NAME:ALIAS points at it.
func viaAlias(err error, name, alias string) error {
	var mv *missingVersionError
	if errors.As(err, &mv) {
		mv.via = "alias " + name + ":" + alias
	}
	return err
}

// ResolveAssociation resolves an association, honouring its pin (QualifierNode).
func (st *State) ResolveAssociation(a Association) (Resolved, error) {
	if n, isNum := VersionNumber(a.Qualifier); isNum && a.QualifierNode != "" {
		if _, ok := st.Functions[a.Function]; !ok {
			return Resolved{}, notFound("function %q", a.Function)
		}
		t, err := st.version(a.Function, n, a.QualifierNode)
		return Resolved{Function: a.Function, Qualifier: a.Qualifier, Primary: t}, err
	}
	return st.Resolve(a.Function, a.Qualifier)
}

// SortedVersions lists a function's versions by number.
func (st *State) SortedVersions(name string) []Version {
	vs := make([]Version, 0, len(st.Versions[name]))
	for _, v := range st.Versions[name] {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Number < vs[j].Number })
	return vs
}

// SortedAliases lists a function's aliases by name.
func (st *State) SortedAliases(name string) []Alias {
	as := make([]Alias, 0, len(st.Aliases[name]))
	for _, a := range st.Aliases[name] {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	return as
}

// AssociationsOf lists the associations naming function name.
func (st *State) AssociationsOf(name string) []Association {
	var out []Association
	for _, a := range st.Associations {
		if a.Function == name {
			out = append(out, a)
		}
	}
	return out
}

// Source reads and verifies a package's blob and unpacks it with its Entry (for a single
// file, its own name; "index.js" in registries written before names were kept).
func (s *Store) Source(c Code) (Source, error) {
	data, err := s.blobs.get(c.SHA256)
	if err != nil {
		return Source{}, err
	}
	return Unpack(data, c.Entry, s.limits)
}

// Blob returns a package's bytes, verified against its sha256 (for peers, issue 5).
func (s *Store) Blob(sum string) ([]byte, error) { return s.blobs.get(sum) }
