package cluster

import (
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/cache"
)

// State is the replicated data of a node (the function registry). The cluster moves bytes; the
// State owns encoding and merge rules. Implementations are safe for concurrent use.
type State interface {
	// Digest summarizes the whole state in at most 32 bytes: equal digests mean equal states.
	// It must be cheap: the cluster calls it every gossip interval and around every merge.
	Digest() []byte
	// Snapshot encodes the whole state for push/pull anti-entropy. The cluster does not
	// retain or modify the returned slice after sending it.
	Snapshot() ([]byte, error)
	// Merge applies a remote snapshot or delta. Merging must be commutative, associative and
	// idempotent, so every node converges whatever the order of messages. Merge must not
	// retain data after returning (the cluster may reuse it).
	Merge(data []byte) error
}

// Blobs is the content-addressed code store (sha256). Implementations are safe for concurrent
// use.
type Blobs interface {
	// Has reports whether the blob with this sha256 is stored.
	Has(sum [32]byte) bool
	// Open returns the blob's content; the caller closes it. A missing blob is an error that
	// wraps fs.ErrNotExist.
	Open(sum [32]byte) (io.ReadCloser, error)
	// Put stores the content of r under sum. It verifies the hash and refuses a mismatch
	// without storing anything.
	Put(sum [32]byte, r io.Reader) error
}

// Deps are the collaborators of a Cluster. Every field is optional.
type Deps struct {
	// Logger receives the cluster's and memberlist's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the verge_cluster_* metrics; nil registers nothing.
	Registry prometheus.Registerer
	// Purge runs a purge on this node's cache and returns how many objects it removed or
	// marked (the edge's cache.Store.Purge). It runs on one cluster goroutine, once per purge
	// message; nil ignores purges.
	Purge func(p cache.Purge) int
}

// nopState is the State of a node without a registry: always empty.
type nopState struct{}

func (nopState) Digest() []byte            { return nil }
func (nopState) Snapshot() ([]byte, error) { return nil, nil }
func (nopState) Merge([]byte) error        { return nil }

var _ State = nopState{}
