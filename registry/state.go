package registry

import (
	"encoding/binary"
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
	st := &State{Functions: map[string]Function{}, Versions: map[string]map[int]Version{}, Aliases: map[string]map[string]Alias{}}
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
		r.Primary = Target{Function: name, Version: Latest, Runtime: f.Runtime, Code: f.Latest}
		return r, nil
	}
	if n, isNum := VersionNumber(qualifier); isNum {
		t, err := st.version(name, n)
		r.Primary = t
		return r, err
	}
	a, ok := st.Aliases[name][qualifier]
	if !ok {
		return Resolved{}, notFound("alias %s:%s", name, qualifier)
	}
	var err error
	if r.Primary, err = st.version(name, a.Version); err != nil {
		return Resolved{}, err
	}
	if a.AdditionalVersion != 0 {
		t, err := st.version(name, a.AdditionalVersion)
		if err != nil {
			return Resolved{}, err
		}
		r.Additional, r.Weight = &t, a.Weight
	}
	return r, nil
}

func (st *State) version(name string, n int) (Target, error) {
	v, ok := st.Versions[name][n]
	if !ok {
		return Target{}, notFound("version %s:%d", name, n)
	}
	return Target{Function: name, Version: strconv.Itoa(n), Runtime: v.Runtime, Code: v.Code}, nil
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

// Source reads and verifies a package's blob and unpacks it.
func (s *Store) Source(c Code) (Source, error) {
	data, err := s.blobs.get(c.SHA256)
	if err != nil {
		return Source{}, err
	}
	return Unpack(data, entryArg(c), s.limits)
}

// Blob returns a package's bytes, verified against its sha256 (for peers, issue 5).
func (s *Store) Blob(sum string) ([]byte, error) { return s.blobs.get(sum) }

func entryArg(c Code) string {
	if c.Format == "zip" {
		return c.Entry
	}
	return ""
}
