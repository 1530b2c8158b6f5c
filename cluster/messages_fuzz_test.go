package cluster

import (
	"bytes"
	"testing"

	"github.com/vergecdn/verge/cache"
)

// FuzzDecodeMessage feeds any bytes to every decoder a gossip packet or a node's metadata
// reaches (corpus: testdata/fuzz/FuzzDecodeMessage). None may panic, and whatever one accepts
// re-encodes to the same bytes, so that a message means one thing only.
func FuzzDecodeMessage(f *testing.F) {
	meta, _ := nodeMeta{Digest: bytes.Repeat([]byte{7}, 32), AdminURL: "http://10.0.0.1:8081"}.encode()
	delta, _ := encodeDelta("alias/f/live", []byte("payload"))
	var id [purgeIDSize]byte
	for _, seed := range [][]byte{meta, delta, encodePurge(id, cache.Purge{Pattern: "/images/*"}), encodeDigest("n1", bytes.Repeat([]byte{1}, 32)), encodeLeave("n1"), {}, {msgDelta, 200}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeMeta(b); err == nil {
			again, err := m.encode()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("meta %x decoded to %+v, re-encoded to %x (%v)", b, m, again, err)
			}
		}
		if name, d, err := decodeDelta(b); err == nil {
			if again, err := encodeDelta(name, d); err != nil || !bytes.Equal(again, b) {
				t.Fatalf("delta %x re-encoded to %x (%v)", b, again, err)
			}
		}
		if id, p, err := decodePurge(b); err == nil {
			if again := encodePurge(id, p); !bytes.Equal(again, b) || len(p.Pattern) > maxPurgePattern {
				t.Fatalf("purge %x re-encoded to %x", b, again)
			}
		}
		if node, err := decodeLeave(b); err == nil {
			if again := encodeLeave(node); !bytes.Equal(again, b) {
				t.Fatalf("leave %x re-encoded to %x", b, again)
			}
		}
		if node, digest, err := decodeDigest(b); err == nil {
			if again := encodeDigest(node, digest); !bytes.Equal(again, b) || len(digest) > maxDigest {
				t.Fatalf("digest %x re-encoded to %x", b, again)
			}
		}
	})
}
