package registry

import (
	"bytes"
	"strings"

	"github.com/vergecdn/verge/cluster"
)

// Clock stamps changes: a hybrid logical clock. *cluster.HLC is one; a fleet shares one
// between the cluster and the registry. Implementations are safe for concurrent use.
type Clock interface {
	// Now returns a timestamp after every one returned or seen.
	Now() cluster.Timestamp
	// Update records a remote timestamp; it fails (leaving the clock alone) for one too far
	// ahead of the local wall clock.
	Update(remote cluster.Timestamp) (cluster.Timestamp, error)
}

var _ Clock = (*cluster.HLC)(nil)

// HLC returns the stamp's hybrid logical clock reading.
func (s Stamp) HLC() cluster.Timestamp {
	if s.Time.IsZero() {
		return cluster.Timestamp{}
	}
	return cluster.Timestamp{Wall: s.Time.UnixNano(), Logical: s.Logical}
}

// Compare orders stamps for last-writer-wins: by HLC reading, then by node id. It returns
// -1, 0 or +1. Revision takes no part.
func (s Stamp) Compare(o Stamp) int {
	if c := s.HLC().Compare(o.HLC()); c != 0 {
		return c
	}
	return strings.Compare(s.Node, o.Node)
}

// versionStamp is the stamp of a version's publish: (Created, Logical, Node).
func versionStamp(v Version) Stamp {
	return Stamp{Revision: v.Revision, Node: v.Node, Time: v.Created, Logical: v.Logical}
}

// newer reports whether a record with stamp a and canonical encoding ea beats one with b/eb:
// the greater stamp wins; equal stamps (only a hostile node writes two different records
// under one stamp) fall back to the greater encoding, so every node still picks the same.
func newer(a Stamp, ea []byte, b Stamp, eb []byte) bool {
	if c := a.Compare(b); c != 0 {
		return c > 0
	}
	return bytes.Compare(ea, eb) > 0
}

// Tombstone records a deletion, so that a deletion beats every older write whatever order
// they arrive in, and loses to every newer one. Kinds and keys:
//
//	"function"    name                 removes the function and its versions and aliases
//	                                   stamped before the deletion
//	"version"     name \x00 number \x00 node   one published version
//	"alias"       name \x00 alias
//	"association" behavior \x00 event
//
// Tombstones are kept for Replica's TombstoneTTL, then compacted (a function tombstone
// becomes its Mark's Floor, so the function's older records stay dead).
type Tombstone struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	Stamp
}

// Mark is a function's high-water marks, kept even after the function is deleted. They
// never go down: merges take the maximum.
type Mark struct {
	Function string `json:"function"`
	// Versions is the highest version number ever seen for the function: a new publish
	// takes a greater number, so numbers are never reused, even after the function is
	// deleted and created again.
	Versions int `json:"versions"`
	// Floor is the stamp of the function's last compacted tombstone: any record of the
	// function stamped at or before it is ignored, so a replayed old record cannot come back
	// after its tombstone was compacted.
	Floor Stamp `json:"floor,omitzero"`
}

func tombKey(kind, key string) []byte { return []byte(kind + "\x00" + key) }
