// Package kvs is Verge's KeyValueStore for CloudFront Functions: named stores of string
// keys and values under CloudFront's limits, persisted in a bbolt file under the node's data
// directory, read by functions through immutable snapshots (cf.kvs() in jsruntime).
//
// A write replaces the store's snapshot as a whole (copy on write), so a function reads one
// consistent version for each access and sees a change at its next access, without being
// redeployed.
package kvs

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// CloudFront's KeyValueStore limits.
const (
	MaxKeyBytes   = 512
	MaxValueBytes = 1 << 10
	MaxStoreBytes = 5 << 20
)

// Errors, matched with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
	ErrTooLarge = errors.New("too large")
)

// Snapshot is one version of a store's contents. It is immutable once published: readers
// share it without locks.
type Snapshot struct {
	Name    string            `json:"name"`
	Created time.Time         `json:"created"`
	Updated time.Time         `json:"updated"`
	Data    map[string]string `json:"data"`
}

// Get returns the value of key.
func (s *Snapshot) Get(key string) (string, bool) {
	v, ok := s.Data[key]
	return v, ok
}

// Size is the store's size as CloudFront counts it: the bytes of every key and value.
func (s *Snapshot) Size() int {
	n := 0
	for k, v := range s.Data {
		n += len(k) + len(v)
	}
	return n
}

// Info describes a store.
type Info struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	KeyCount int       `json:"keyCount"`
	Size     int       `json:"size"`
}

// Info describes s.
func (s *Snapshot) Info() Info {
	return Info{Name: s.Name, Created: s.Created, Updated: s.Updated, KeyCount: len(s.Data), Size: s.Size()}
}

// CheckItem checks a key and value against CloudFront's limits.
func CheckItem(key, value string) error {
	switch {
	case key == "":
		return fmt.Errorf("kvs: %w: a key must not be empty", ErrInvalid)
	case len(key) > MaxKeyBytes:
		return fmt.Errorf("kvs: %w: key %.40q... is %d bytes, over the limit of %d", ErrTooLarge, key, len(key), MaxKeyBytes)
	case len(value) > MaxValueBytes:
		return fmt.Errorf("kvs: %w: the value of key %q is %d bytes, over the limit of %d", ErrTooLarge, key, len(value), MaxValueBytes)
	case !utf8.ValidString(key) || !utf8.ValidString(value):
		return fmt.Errorf("kvs: %w: key %q: keys and values must be UTF-8", ErrInvalid, key)
	}
	return nil
}

// ValidName reports whether name is a store name: 1-64 letters, digits, '-' or '_' (as
// CloudFront names a KeyValueStore).
func ValidName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// with returns a copy of s with the changes applied (a "" value in del means delete), checked
// against the store limit.
func (s *Snapshot) with(put map[string]string, del []string, now time.Time) (*Snapshot, error) {
	n := &Snapshot{Name: s.Name, Created: s.Created, Updated: now, Data: make(map[string]string, len(s.Data)+len(put))}
	for k, v := range s.Data {
		n.Data[k] = v
	}
	for _, k := range del {
		delete(n.Data, k)
	}
	for k, v := range put {
		if err := CheckItem(k, v); err != nil {
			return nil, err
		}
		n.Data[k] = v
	}
	if size := n.Size(); size > MaxStoreBytes {
		return nil, fmt.Errorf("kvs: %w: store %s would hold %d bytes, over the limit of %d", ErrTooLarge, s.Name, size, MaxStoreBytes)
	}
	return n, nil
}
