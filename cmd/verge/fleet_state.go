package main

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// nodeState is what a node replicates over its one cluster: the registry and the
// KeyValueStores. A node without stores replicates exactly the registry's bytes, as before
// stores existed; with stores, the digest covers both and a snapshot carries both in an
// envelope (envMagic, envVersion, the registry's length as a uvarint, the registry's
// snapshot, the stores'). Deltas are each State's own (the stores' start with kvs's magic).
type nodeState struct {
	reg *registry.Replica
	kv  *kvs.Replica
}

var _ cluster.State = nodeState{}

const (
	envMagic   = 'E'
	envVersion = 1
)

func (n nodeState) Digest() []byte {
	rd := n.reg.Digest()
	if n.kv.Empty() {
		return rd
	}
	h := sha256.New()
	h.Write(rd)
	h.Write(n.kv.Digest())
	return h.Sum(nil)
}

func (n nodeState) Snapshot() ([]byte, error) {
	rb, err := n.reg.Snapshot()
	if err != nil || n.kv.Empty() {
		return rb, err
	}
	kb, err := n.kv.Snapshot()
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint([]byte{envMagic, envVersion}, uint64(len(rb)))
	return append(append(out, rb...), kb...), nil
}

func (n nodeState) Merge(data []byte) error {
	switch {
	case kvs.IsWire(data):
		return n.kv.Merge(data)
	case len(data) >= 2 && data[0] == envMagic && data[1] == envVersion:
		size, k := binary.Uvarint(data[2:])
		if k <= 0 || size > uint64(len(data)-2-k) {
			return errors.New("fleet: malformed state envelope")
		}
		rb, kb := data[2+k:2+k+int(size)], data[2+k+int(size):]
		return errors.Join(n.reg.Merge(rb), n.kv.Merge(kb))
	}
	if err := n.reg.Merge(data); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	return nil
}
