package registry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/vergecdn/verge/cluster"

	bolt "go.etcd.io/bbolt"
)

// Has reports whether the blob with this sha256 is stored (cluster.Blobs).
func (r *Replica) Has(sum [32]byte) bool { return r.s.blobs.has(hex.EncodeToString(sum[:])) }

// Open returns a stored blob's content (cluster.Blobs); a missing blob wraps fs.ErrNotExist.
func (r *Replica) Open(sum [32]byte) (io.ReadCloser, error) {
	f, err := os.Open(r.s.blobs.path(hex.EncodeToString(sum[:])))
	if err != nil {
		return nil, fmt.Errorf("registry: blob: %w", err)
	}
	return f, nil
}

// Put stores the content of r under sum (cluster.Blobs). It reads at most the largest
// package limit, verifies the sha256 and refuses a mismatch (ErrCorrupt) without storing
// anything. When a record names the blob, the change feed fires, so the activator can
// start the code it was waiting for.
func (r *Replica) Put(sum [32]byte, rd io.Reader) error {
	limit := max(r.s.limits.Origin, r.s.limits.Viewer, r.s.limits.CloudFrontFunctions)
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return fmt.Errorf("registry: blob %x: %w", sum, err)
	}
	if int64(len(data)) > limit {
		return &TooLargeError{What: "blob", Size: -1, Limit: limit}
	}
	if got := sha256.Sum256(data); got != sum {
		return fmt.Errorf("registry: blob %x does not match its content (%x): %w", sum, got, ErrCorrupt)
	}
	if _, err := r.s.blobs.put(data); err != nil {
		return err
	}
	if named, err := r.s.namedBlobs(); err != nil {
		return err
	} else if _, ok := named[hex.EncodeToString(sum[:])]; ok {
		return r.s.touch()
	}
	return nil
}

// namedBlob is what the records say of one blob: whether this node lacks it, and the nodes
// that wrote the records naming it (its publishers, which hold it).
type namedBlob struct {
	lacking bool
	sources []string
}

// namedBlobs maps every blob a record names (by hex sha256) to what the records say of it.
func (s *Store) namedBlobs() (map[string]*namedBlob, error) {
	st, err := s.Snapshot()
	if err != nil {
		return nil, err
	}
	out := map[string]*namedBlob{}
	add := func(sum, node string) {
		if sum == "" {
			return
		}
		b := out[sum]
		if b == nil {
			b = &namedBlob{lacking: !s.blobs.has(sum)}
			out[sum] = b
		}
		if node != "" && !slices.Contains(b.sources, node) {
			b.sources = append(b.sources, node)
		}
	}
	for _, f := range st.Functions {
		add(f.Latest.SHA256, f.Node)
	}
	for _, vs := range st.Versions {
		for _, v := range vs {
			add(v.Code.SHA256, v.Node)
		}
	}
	for _, vs := range st.Shadowed {
		for _, v := range vs {
			add(v.Code.SHA256, v.Node)
		}
	}
	return out, nil
}

// touch bumps the revision without changing a record, so that the activator, which applies
// each revision once, looks again (a blob arrived). It fires the change feed.
func (s *Store) touch() error {
	s.write.Lock()
	defer s.write.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := bumpRevision(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	s.notify()
	return nil
}

// fetchLoop fetches the blobs that merged records name and this node lacks, asking the nodes
// that wrote those records first (cluster.WithSources), retrying each with exponential
// backoff, and compacts old tombstones every hour. A blob's first failed fetch is logged as a
// warning and its retries at debug level; when it lands after failures, that is logged once.
func (r *Replica) fetchLoop() {
	type retry struct {
		wait     time.Duration
		at       time.Time
		attempts int
	}
	retries := map[string]*retry{}
	compact := time.NewTicker(time.Hour)
	defer compact.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-compact.C:
			if n, err := r.Compact(); err != nil {
				r.log.Error("registry: compacting tombstones", "error", err.Error())
			} else if n > 0 {
				r.log.Info("compacted tombstones", "count", n)
			}
			continue
		case <-r.kick:
		case <-timer.C:
		}
		fp := r.fetch.Load()
		named, err := r.s.namedBlobs()
		if err != nil || fp == nil || *fp == nil {
			continue
		}
		next := r.o.MaxFetchBackoff
		now := time.Now()
		for sum, b := range named {
			if !b.lacking {
				delete(retries, sum)
				continue
			}
			rt := retries[sum]
			if rt == nil {
				rt = &retry{wait: r.o.FetchBackoff}
				retries[sum] = rt
			}
			if now.Before(rt.at) {
				next = min(next, rt.at.Sub(now))
				continue
			}
			rt.attempts++
			if err := r.fetchOne(*fp, sum, b.sources); err != nil {
				level := slog.LevelDebug
				if rt.attempts == 1 {
					level = slog.LevelWarn
				}
				r.log.Log(context.Background(), level, "registry: blob fetch failed; retrying with backoff (further failures at debug level)",
					"sha256", sum, "attempt", rt.attempts, "in", rt.wait.String(), "sources", b.sources, "error", err.Error())
				rt.at = time.Now().Add(rt.wait)
				next = min(next, rt.wait)
				rt.wait = min(2*rt.wait, r.o.MaxFetchBackoff)
				continue
			}
			if rt.attempts > 1 {
				r.log.Info("registry: blob fetched after failed attempts", "sha256", sum, "attempts", rt.attempts)
			}
			delete(retries, sum)
		}
		for sum := range retries {
			if b := named[sum]; b == nil || !b.lacking {
				delete(retries, sum)
			}
		}
		if len(retries) > 0 {
			timer.Reset(next)
		}
	}
}

// fetchOne runs one bounded fetch attempt, naming the blob's sources, and checks that the
// blob landed.
func (r *Replica) fetchOne(fetch func(context.Context, [32]byte) error, sum string, sources []string) error {
	b, err := hex.DecodeString(sum)
	if err != nil || len(b) != 32 {
		return invalid("blob name %q", sum)
	}
	var key [32]byte
	copy(key[:], b)
	ctx, cancel := context.WithTimeout(cluster.WithSources(context.Background(), sources), r.o.FetchTimeout)
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := fetch(ctx, key); err != nil {
		return err
	}
	if !r.Has(key) {
		return fmt.Errorf("registry: blob %s: fetch returned without storing it: %w", sum, ErrNotReady)
	}
	return nil // Put fired the change feed
}

// Compact compacts the tombstones older than TombstoneTTL now (it also runs every hour).
// It returns how many it removed.
func (r *Replica) Compact() (int, error) { return r.s.compactTombstones(r.cutoff()) }

// compactTombstones removes the tombstones stamped before cutoff (HLC wall ns); a function
// tombstone becomes its function's Mark Floor. It returns how many it removed.
func (s *Store) compactTombstones(cutoff int64) (int, error) {
	s.write.Lock()
	defer s.write.Unlock()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		var old []Tombstone
		if err := forEach(tx.Bucket(bTombs), func(t Tombstone) {
			if t.Time.UnixNano() < cutoff {
				old = append(old, t)
			}
		}); err != nil {
			return err
		}
		m := &merger{tx: tx}
		for _, t := range old {
			if t.Kind == "function" {
				if err := m.mark(t.Key, 0, t.Stamp); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bTombs).Delete(tombKey(t.Kind, t.Key)); err != nil {
				return err
			}
		}
		n = len(old)
		if n == 0 {
			return nil
		}
		_, err := bumpRevision(tx) // the digest is cached per revision
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("registry: compact: %w", err)
	}
	if n > 0 {
		s.notify() // the digest changed
	}
	return n, nil
}

// bumpRevision increments the registry revision in tx and returns it.
func bumpRevision(tx *bolt.Tx) (uint64, error) {
	meta := tx.Bucket(bMeta)
	rev := uint64(1)
	if v := meta.Get([]byte("revision")); len(v) == 8 {
		rev = binary.BigEndian.Uint64(v) + 1
	}
	return rev, meta.Put([]byte("revision"), binary.BigEndian.AppendUint64(nil, rev))
}
