package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vergecdn/verge/cluster"
)

// stateCache holds the canonical encoding of the state at one revision and its digest: a
// fleet asks for both on every push/pull and probe, far more often than the state changes.
type stateCache struct {
	mu  sync.Mutex
	rev uint64
	enc []byte // shared with callers, never modified
	sum []byte
}

// readState returns the canonical encoding of every replicated record, and the revision it
// was read at.
func (s *Store) readState() ([]byte, uint64, error) {
	var w *wire
	var rev uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get([]byte("revision")); len(v) == 8 {
			rev = binary.BigEndian.Uint64(v)
		}
		var err error
		w, err = readWire(tx)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("registry: state: %w", err)
	}
	b, err := w.encode()
	return b, rev, err
}

// state returns the canonical encoding of the state and its sha256, computed once per
// revision. The caller must not modify enc.
func (s *Store) state() (enc, sum []byte, err error) {
	rev := s.Revision()
	c := &s.cached
	c.mu.Lock()
	if c.sum != nil && c.rev == rev {
		enc, sum = c.enc, c.sum
		c.mu.Unlock()
		return enc, sum, nil
	}
	c.mu.Unlock()
	enc, rev, err = s.readState()
	if err != nil {
		return nil, nil, err
	}
	h := sha256.Sum256(enc)
	c.mu.Lock()
	if rev >= c.rev {
		c.rev, c.enc, c.sum = rev, enc, h[:]
	}
	c.mu.Unlock()
	return enc, h[:], nil
}

// localDelta returns the records a local change at revision rev wrote (with the marks of
// the functions it touched), or nil if none is left (a later change overwrote them).
func (s *Store) localDelta(rev uint64) (*wire, error) {
	var out wire
	err := s.db.View(func(tx *bolt.Tx) error {
		w, err := readWire(tx)
		if err != nil {
			return err
		}
		fns := map[string]bool{}
		for _, f := range w.Functions {
			if f.Revision == rev {
				out.Functions, fns[f.Name] = append(out.Functions, f), true
			}
		}
		for _, v := range w.Versions {
			if v.Revision == rev {
				out.Versions, fns[v.Function] = append(out.Versions, v), true
			}
		}
		for _, a := range w.Aliases {
			if a.Revision == rev {
				out.Aliases = append(out.Aliases, a)
			}
		}
		for _, a := range w.Associations {
			if a.Revision == rev {
				out.Associations = append(out.Associations, a)
			}
		}
		for _, t := range w.Tombstones {
			if t.Revision == rev {
				out.Tombstones = append(out.Tombstones, t)
				if t.Kind != "association" {
					fns[splitKey(t.Key)[0]] = true
				}
			}
		}
		for _, m := range w.Marks {
			if fns[m.Function] {
				out.Marks = append(out.Marks, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: delta: %w", err)
	}
	if out.len() == 0 {
		return nil, nil
	}
	out.Node = s.node
	return &out, nil
}

// mergeWire applies remote records in one transaction. Records stamped too far ahead of the
// local clock are left out (they come back with a later pull). It reports what changed; a
// merge that changes nothing writes nothing (and leaves the revision alone).
func (s *Store) mergeWire(w *wire, cutoff int64, maxSkew time.Duration) ([]string, error) {
	s.acceptClock(w, maxSkew)
	s.write.Lock()
	defer s.write.Unlock()
	var changed []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		rev := uint64(1)
		if v := meta.Get([]byte("revision")); len(v) == 8 {
			rev = binary.BigEndian.Uint64(v) + 1
		}
		m := &merger{tx: tx, rev: rev, accept: s.gate.accept, cutoff: cutoff}
		if err := m.apply(w); err != nil {
			return err
		}
		if len(m.changed) == 0 {
			return errUnchanged
		}
		changed = m.changed
		if err := meta.Put([]byte("revision"), binary.BigEndian.AppendUint64(nil, rev)); err != nil {
			return err
		}
		audit := tx.Bucket(bAudit)
		seq, err := audit.NextSequence()
		if err != nil {
			return err
		}
		detail := strings.Join(changed[:min(len(changed), 20)], "; ")
		if len(changed) > 20 {
			detail += fmt.Sprintf("; and %d more", len(changed)-20)
		}
		e := AuditEntry{Seq: seq, Revision: rev, Time: s.now().UTC(), Who: "fleet", Action: "replicate",
			Target: w.Node, Detail: detail, Node: s.node}
		return putJSON(audit, binary.BigEndian.AppendUint64(nil, seq), e)
	})
	if errors.Is(err, errUnchanged) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: merge: %w", err)
	}
	s.notify()
	return changed, nil
}

// acceptClock advances the local clock past every remote stamp in w and drops the records
// stamped more than maxSkew (when > 0) ahead of the local wall clock, so that a peer with a
// wrong clock cannot win every last-writer-wins race (they come back with a later pull).
func (s *Store) acceptClock(w *wire, maxSkew time.Duration) {
	limit := s.now().Add(maxSkew).UnixNano()
	ok := func(st Stamp) bool {
		if maxSkew > 0 && st.HLC().Wall > limit {
			return false
		}
		_, err := s.clock.Update(st.HLC())
		return !errors.Is(err, cluster.ErrClockSkew)
	}
	w.Functions = keep(w.Functions, func(f Function) bool { return ok(f.Stamp) })
	w.Versions = keep(w.Versions, func(v Version) bool { return ok(versionStamp(v)) })
	w.Aliases = keep(w.Aliases, func(a Alias) bool { return ok(a.Stamp) })
	w.Associations = keep(w.Associations, func(a Association) bool { return ok(a.Stamp) })
	w.Tombstones = keep(w.Tombstones, func(t Tombstone) bool { return ok(t.Stamp) })
	w.Marks = keep(w.Marks, func(m Mark) bool { return m.Floor.Time.IsZero() || ok(m.Floor) })
}

func keep[T any](xs []T, fn func(T) bool) []T {
	out := xs[:0]
	for _, x := range xs {
		if fn(x) {
			out = append(out, x)
		}
	}
	return out
}

// Runnable reports whether t may run on this node: nil, or an error wrapping ErrNotReady
// when its code blob has not arrived yet or, in a signing fleet, it is not signed. The
// activator never builds a target that is not runnable; it keeps the previous one.
func (s *Store) Runnable(t Target) error { return s.gate.runnable(t, s.node) }
