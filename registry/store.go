package registry

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vergecdn/verge/cluster"
)

// Bucket names.
var (
	bFunctions = []byte("functions")    // name -> Function
	bVersions  = []byte("versions")     // name \x00 %010d -> Version
	bAliases   = []byte("aliases")      // name \x00 alias -> Alias
	bAssoc     = []byte("associations") // behavior \x00 event -> Association
	bAudit     = []byte("audit")        // seq (8 bytes BE) -> AuditEntry
	bMeta      = []byte("meta")         // "revision" -> uint64 BE, "node" -> id
	bShadow    = []byte("shadowed")     // name \x00 %010d \x00 node -> Version that lost its number
	bTombs     = []byte("tombstones")   // kind \x00 key -> Tombstone
	bMarks     = []byte("marks")        // name -> Mark (per-function high-water marks)
	bQuar      = []byte("quarantine")   // name \x00 %010d \x00 node -> Version the fleet key does not verify (local, never replicated)
)

// Options configure Open. Only Dir is required.
type Options struct {
	// Dir is the data directory: the database is Dir/registry.db, blobs Dir/blobs/.
	Dir string
	// NodeID names this node in Stamps. Default: a random id created once and kept in the
	// database.
	NodeID string
	// Limits bound packages (see Limits for defaults).
	Limits Limits
	// Now is the wall clock. Default time.Now.
	Now func() time.Time
	// Clock stamps every change (a hybrid logical clock; a fleet passes the one it shares
	// with the cluster). Default: an HLC over Now.
	Clock Clock
	// FleetKey, SigningKey and ManifestTTL are the fleet's signing configuration (see Trust;
	// SetTrust sets it later). With FleetKey, Open signs or quarantines the versions held that
	// it does not verify, as SetTrust does. Default: none (no signing, everything accepted).
	FleetKey    ed25519.PublicKey
	SigningKey  ed25519.PrivateKey
	ManifestTTL time.Duration
	// LockTimeout is how long Open waits for another process to release the database.
	// Default 2s.
	LockTimeout time.Duration
}

// Store is the registry. It is safe for concurrent use. Mutations are serialized; reads run
// concurrently with them and see whole transactions only.
type Store struct {
	db     *bolt.DB
	blobs  *blobs
	node   string
	limits Limits
	now    func() time.Time
	clock  Clock

	write sync.Mutex // serializes mutations, including their blob writes and blob removals

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}

	hookMu  sync.Mutex
	onLocal func(rev uint64) // see setLocalHook
	cached  stateCache
	gate    gate // what may run: blobs held, signatures (see ready.go)
}

// Open opens (creating if needed) the registry under o.Dir. Close it when done.
func Open(o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("registry: no data directory")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 2 * time.Second
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	bl, err := newBlobs(filepath.Join(o.Dir, "blobs"))
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(o.Dir, "registry.db"), 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("registry: open %s: another process (a running verge?) holds the data directory; give each node its own --data: %w", o.Dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", o.Dir, err)
	}
	if o.Clock == nil {
		o.Clock = cluster.NewHLC(o.Now, 0)
	}
	s := &Store{db: db, blobs: bl, limits: o.Limits.WithDefaults(), now: o.Now, clock: o.Clock, subs: map[chan struct{}]struct{}{}}
	if err := s.gate.init(o, bl); err != nil {
		db.Close()
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bFunctions, bVersions, bAliases, bAssoc, bAudit, bMeta, bShadow, bTombs, bMarks, bQuar} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if o.NodeID != "" {
			s.node = o.NodeID
			return nil
		}
		if id := meta.Get([]byte("node")); id != nil {
			s.node = string(id)
			return nil
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		s.node = hex.EncodeToString(b[:])
		return meta.Put([]byte("node"), []byte(s.node))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: init: %w", err)
	}
	if _, err := s.applyTrust(); err != nil { // with FleetKey, as SetTrust does
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database. Subscribers' channels are closed.
func (s *Store) Close() error {
	s.subMu.Lock()
	for ch := range s.subs {
		close(ch)
		delete(s.subs, ch)
	}
	s.subMu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("registry: close: %w", err)
	}
	return nil
}

// Node is this node's id, as written in Stamps.
func (s *Store) Node() string { return s.node }

// Limits are the package limits in force.
func (s *Store) Limits() Limits { return s.limits }

// Subscribe returns a channel that receives a value after every committed change (several
// changes may coalesce into one value: the receiver reads the current state with Snapshot,
// or the changes themselves with Audit since its last revision). Sends never block the
// writer. cancel releases the subscription; the channel is closed by cancel or Close.
func (s *Store) Subscribe() (ch <-chan struct{}, cancel func()) {
	c := make(chan struct{}, 1)
	s.subMu.Lock()
	s.subs[c] = struct{}{}
	s.subMu.Unlock()
	return c, func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		if _, ok := s.subs[c]; ok {
			delete(s.subs, c)
			close(c)
		}
	}
}

func (s *Store) notify() {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for c := range s.subs {
		select {
		case c <- struct{}{}:
		default: // a notification is already pending
		}
	}
}

// change is one mutation in progress: its transaction and the stamp its records get.
type change struct {
	tx    *bolt.Tx
	stamp Stamp
}

// update runs fn in a write transaction with a new revision, appends the audit entry fn
// returns, commits (fsync), then notifies subscribers. It returns the audit entry.
func (s *Store) update(who string, fn func(c *change) (AuditEntry, error)) (AuditEntry, error) {
	var entry AuditEntry
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		rev := uint64(1)
		if v := meta.Get([]byte("revision")); len(v) == 8 {
			rev = binary.BigEndian.Uint64(v) + 1
		}
		var rb [8]byte
		binary.BigEndian.PutUint64(rb[:], rev)
		if err := meta.Put([]byte("revision"), rb[:]); err != nil {
			return err
		}
		ts := s.clock.Now()
		c := &change{tx: tx, stamp: Stamp{Revision: rev, Node: s.node, Time: time.Unix(0, ts.Wall).UTC(), Logical: ts.Logical}}
		e, err := fn(c)
		if err != nil {
			return err
		}
		audit := tx.Bucket(bAudit)
		seq, err := audit.NextSequence()
		if err != nil {
			return err
		}
		e.Seq, e.Revision, e.Time, e.Who, e.Node = seq, rev, c.stamp.Time, who, s.node
		entry = e
		var kb [8]byte
		binary.BigEndian.PutUint64(kb[:], seq)
		return putJSON(audit, kb[:], e)
	})
	if err != nil {
		return AuditEntry{}, err
	}
	s.notify()
	s.hookMu.Lock()
	hook := s.onLocal
	s.hookMu.Unlock()
	if hook != nil {
		hook(entry.Revision)
	}
	return entry, nil
}

// setLocalHook sets the function called after every committed local change with its
// revision (the Replica broadcasts the records stamped with it). It runs on the writer's
// goroutine, after the commit, and must not block.
func (s *Store) setLocalHook(fn func(rev uint64)) {
	s.hookMu.Lock()
	s.onLocal = fn
	s.hookMu.Unlock()
}

// Revision is the registry's current revision (0 when empty).
func (s *Store) Revision() uint64 {
	var rev uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get([]byte("revision")); len(v) == 8 {
			rev = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return rev
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("registry: decoding %q: %w", key, err)
	}
	return true, nil
}

func versionKey(name string, n int) []byte { return fmt.Appendf(nil, "%s\x00%010d", name, n) }
func pairKey(a, b string) []byte           { return []byte(a + "\x00" + b) }
