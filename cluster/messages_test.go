package cluster

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vergecdn/verge/cache"
)

func TestNodeMetaRoundTrip(t *testing.T) {
	for _, m := range []nodeMeta{{}, {Digest: bytes.Repeat([]byte{7}, 32), AdminURL: "http://10.0.0.1:8081"}} {
		b, err := m.encode()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 512 {
			t.Fatalf("meta is %d bytes, memberlist allows 512", len(b))
		}
		got, err := decodeMeta(b)
		if err != nil || !bytes.Equal(got.Digest, m.Digest) || got.AdminURL != m.AdminURL {
			t.Fatalf("decodeMeta = %+v, %v; want %+v", got, err, m)
		}
	}
	if _, err := (nodeMeta{Digest: make([]byte, 33)}).encode(); err == nil {
		t.Error("encode accepted a 33-byte digest")
	}
	for _, bad := range [][]byte{nil, {2, 0, 0, 0}, {1, 40}, {1, 0, 0, 5, 'a'}} {
		if _, err := decodeMeta(bad); err == nil {
			t.Errorf("decodeMeta(%v) accepted", bad)
		}
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	msg, err := encodeDelta("alias/f/live", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	name, delta, err := decodeDelta(msg)
	if err != nil || name != "alias/f/live" || string(delta) != "payload" {
		t.Fatalf("decodeDelta = %q %q %v", name, delta, err)
	}
	if _, err := encodeDelta(strings.Repeat("x", 256), nil); err == nil {
		t.Error("encodeDelta accepted a 256-byte name")
	}
	if _, _, err := decodeDelta([]byte{msgDelta, 9, 'a'}); err == nil {
		t.Error("decodeDelta accepted a truncated name")
	}
	node, digest, err := decodeDigest(encodeDigest("n1", []byte{1, 2, 3}))
	if err != nil || node != "n1" || string(digest) != "\x01\x02\x03" {
		t.Fatalf("decodeDigest = %q %v %v", node, digest, err)
	}
	if _, _, err := decodeDigest(append(encodeDigest("n1", nil), make([]byte, 33)...)); err == nil {
		t.Error("decodeDigest accepted a 33-byte digest")
	}
	id := [purgeIDSize]byte{1, 2, 3}
	for _, p := range []cache.Purge{
		{Pattern: "/images/*"},
		{Pattern: "/a", Soft: true},
		{Pattern: "tag:news", Host: "example.com"},
		{Pattern: "all", Host: "example.com", Soft: true},
	} {
		msg := encodePurge(id, p)
		if plain := !p.Soft && p.Host == ""; plain != (msg[0] == msgPurge) {
			t.Errorf("%+v encoded as %q: a plain purge must stay 'P', which older nodes read", p, msg[0])
		}
		gotID, got, err := decodePurge(msg)
		if err != nil || gotID != id || got != p {
			t.Fatalf("decodePurge(encodePurge(%+v)) = %v %+v %v", p, gotID, got, err)
		}
	}
	if _, _, err := decodePurge(encodePurge(id, cache.Purge{Pattern: strings.Repeat("x", maxPurgePattern+1)})); err == nil {
		t.Error("decodePurge accepted an oversized pattern")
	}
	if _, _, err := decodePurge(append([]byte{msgPurgeEx}, append(id[:], 0, 0, '/')...)); err == nil {
		t.Error("decodePurge accepted a plain purge in the extended form")
	}
}
