package main

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"testing"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/registry"
)

// FuzzNodeStateMerge feeds a node's combined State (registry and KeyValueStores) arbitrary
// remote state: envelopes, the stores' deltas, the registry's own. Nothing may panic, and an
// envelope made of this node's own snapshots merges without error and changes nothing.
func FuzzNodeStateMerge(f *testing.F) {
	cfg := &edge.Config{Admin: "127.0.0.1:0", Data: f.TempDir()}
	lc, err := openLifecycle(cfg, nil, slog.New(slog.DiscardHandler), lifecycleOptions{InProcess: true, Tokens: []admin.Token{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { lc.Close() })
	if _, err := lc.kvs.Create("site", map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	if _, err := lc.reg.PutCode("t", "fn", registry.Upload{Package: []byte(`exports.handler = async (e) => e.Records[0].cf.request;`)}); err != nil {
		f.Fatal(err)
	}
	rep := registry.NewReplica(lc.reg, registry.ReplicaOptions{})
	f.Cleanup(func() { rep.Close() })
	st := nodeState{reg: rep, kv: lc.kvs.Replica()}
	snap, err := st.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	before := st.Digest()
	if err := st.Merge(snap); err != nil || !bytes.Equal(before, st.Digest()) {
		f.Fatalf("merging the node's own snapshot: %v, digest changed %v", err, !bytes.Equal(before, st.Digest()))
	}
	f.Add(snap)
	f.Add([]byte{envMagic, envVersion, 0x80})
	f.Add(append(binary.AppendUvarint([]byte{envMagic, envVersion}, 1<<40), 'R'))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = st.Merge(b)
	})
}
