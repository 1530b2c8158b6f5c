package registry

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Audit returns audit entries, oldest first. With after == 0 it returns the newest limit
// entries; otherwise up to limit entries whose Seq is greater than after (a change feed
// reader's cursor). limit <= 0 means 100.
func (s *Store) Audit(after uint64, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAudit)
		cur := b.Cursor()
		decode := func(k []byte) error {
			var e AuditEntry
			if _, err := getJSON(b, k, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		}
		if after == 0 {
			for k, _ := cur.Last(); k != nil && len(out) < limit; k, _ = cur.Prev() {
				if err := decode(k); err != nil {
					return err
				}
			}
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			return nil
		}
		var kb [8]byte
		binary.BigEndian.PutUint64(kb[:], after+1)
		for k, _ := cur.Seek(kb[:]); k != nil && len(out) < limit; k, _ = cur.Next() {
			if err := decode(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry: audit: %w", err)
	}
	return out, nil
}
