package kvs

import (
	"strings"
	"time"

	"github.com/vergecdn/verge/cluster"
)

// Clock stamps writes: the hybrid logical clock a node shares with its registry, so that a
// fleet orders every write of a key the same way (*cluster.HLC is one).
type Clock interface {
	Now() cluster.Timestamp
	Update(remote cluster.Timestamp) (cluster.Timestamp, error)
}

// item is one key's last write, kept (a deletion too, as a tombstone) so that replicas merge
// it by last-writer-wins: the greater (Time, Logical, Node) stamp wins, equal stamps the
// greater value (only a hostile node writes two values under one stamp).
type item struct {
	Value   string `json:"v,omitempty"`
	Deleted bool   `json:"d,omitempty"`
	Wall    int64  `json:"w"`
	Logical uint32 `json:"l,omitempty"`
	Node    string `json:"n"`
}

func (it item) stamp() cluster.Timestamp {
	return cluster.Timestamp{Wall: it.Wall, Logical: it.Logical}
}

// newer reports whether it beats o.
func (it item) newer(o item) bool {
	if c := it.stamp().Compare(o.stamp()); c != 0 {
		return c > 0
	}
	if c := strings.Compare(it.Node, o.Node); c != 0 {
		return c > 0
	}
	if it.Deleted != o.Deleted {
		return it.Deleted
	}
	return it.Value > o.Value
}

// store is a store's replicated state: its creation and every key's last write.
type store struct {
	created time.Time
	items   map[string]item
}

// snapshot makes the Snapshot functions read.
func (s *store) snapshot(name string) *Snapshot {
	snap := &Snapshot{Name: name, Created: s.created, Updated: s.created, Data: make(map[string]string, len(s.items))}
	for k, it := range s.items {
		if !it.Deleted {
			snap.Data[k] = it.Value
		}
		if t := time.Unix(0, it.Wall).UTC(); t.After(snap.Updated) {
			snap.Updated = t
		}
	}
	return snap
}
