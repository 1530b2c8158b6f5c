package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"

	"github.com/vergecdn/verge/cache"
)

// Wire formats. Every message is one type byte and a body; every field is bounded.
//
//	node meta:  0x01 | digest len (1) | digest (≤32) | admin URL len (2, big endian) | admin URL (≤256)
//	delta:      'D'  | name len (1) | name (≤255) | State delta
//	purge:      'P'  | id (16) | pattern (≤512)
//	purge+:     'Q'  | id (16) | flags (1: bit 0 soft) | host len (1) | host (≤255) | pattern (≤512):
//	            a soft or host-scoped purge; a plain one stays 'P', which every node reads
//	digest:     'G'  | node name len (1) | node name (≤255) | digest (≤32)
//	leave:      'L'  | node name (1..255): the sender is leaving (Close), not dying
//	push/pull:  0x01 | State snapshot (≤ Config.MaxStateBytes)
const (
	metaVersion  = 1
	stateVersion = 1
	msgDelta     = 'D'
	msgPurge     = 'P'
	msgPurgeEx   = 'Q'
	msgDigest    = 'G'
	msgLeave     = 'L'
	maxDigest    = 32
	purgeIDSize  = 16
)

// nodeMeta is what a node advertises in its memberlist metadata.
type nodeMeta struct {
	Digest   []byte // State digest, at most 32 bytes
	AdminURL string // base URL of the admin API; empty: no blob fetches from this node
}

func (m nodeMeta) encode() ([]byte, error) {
	if len(m.Digest) > maxDigest || len(m.AdminURL) > maxAdminURL {
		return nil, errors.New("cluster: node meta: field too long")
	}
	b := make([]byte, 0, 4+len(m.Digest)+len(m.AdminURL))
	b = append(b, metaVersion, byte(len(m.Digest)))
	b = append(b, m.Digest...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.AdminURL)))
	return append(b, m.AdminURL...), nil
}

func decodeMeta(b []byte) (nodeMeta, error) {
	if len(b) < 2 || b[0] != metaVersion {
		return nodeMeta{}, errors.New("cluster: node meta: unknown version")
	}
	n := int(b[1])
	b = b[2:]
	if n > maxDigest || len(b) < n+2 {
		return nodeMeta{}, errors.New("cluster: node meta: bad digest")
	}
	m := nodeMeta{Digest: append([]byte(nil), b[:n]...)}
	b = b[n:]
	u := int(binary.BigEndian.Uint16(b))
	if u > maxAdminURL || len(b[2:]) != u {
		return nodeMeta{}, errors.New("cluster: node meta: bad admin URL")
	}
	m.AdminURL = string(b[2:])
	return m, nil
}

func encodeDelta(name string, delta []byte) ([]byte, error) {
	if len(name) > 255 {
		return nil, fmt.Errorf("cluster: broadcast name longer than 255 bytes: %q", name)
	}
	b := make([]byte, 0, 2+len(name)+len(delta))
	b = append(b, msgDelta, byte(len(name)))
	b = append(b, name...)
	return append(b, delta...), nil
}

// decodeDelta returns slices of msg; they are valid as long as msg is.
func decodeDelta(msg []byte) (name string, delta []byte, err error) {
	if len(msg) < 2 || msg[0] != msgDelta || len(msg) < 2+int(msg[1]) {
		return "", nil, errors.New("cluster: malformed delta message")
	}
	n := int(msg[1])
	return string(msg[2 : 2+n]), msg[2+n:], nil
}

func encodePurge(id [purgeIDSize]byte, p cache.Purge) []byte {
	if !p.Soft && p.Host == "" {
		b := make([]byte, 0, 1+purgeIDSize+len(p.Pattern))
		b = append(b, msgPurge)
		b = append(b, id[:]...)
		return append(b, p.Pattern...)
	}
	var flags byte
	if p.Soft {
		flags = 1
	}
	b := make([]byte, 0, 3+purgeIDSize+len(p.Host)+len(p.Pattern))
	b = append(b, msgPurgeEx)
	b = append(b, id[:]...)
	b = append(b, flags, byte(len(p.Host)))
	b = append(b, p.Host...)
	return append(b, p.Pattern...)
}

func decodePurge(msg []byte) (id [purgeIDSize]byte, p cache.Purge, err error) {
	bad := errors.New("cluster: malformed purge message")
	if len(msg) < 1+purgeIDSize {
		return id, p, bad
	}
	copy(id[:], msg[1:])
	rest := msg[1+purgeIDSize:]
	switch msg[0] {
	case msgPurge:
	case msgPurgeEx:
		if len(rest) < 2 || rest[0] > 1 || len(rest) < 2+int(rest[1]) {
			return id, p, bad
		}
		p.Soft = rest[0] == 1
		p.Host = string(rest[2 : 2+int(rest[1])])
		rest = rest[2+int(rest[1]):]
		if !p.Soft && p.Host == "" { // a plain purge is always sent as 'P': one encoding each
			return id, p, bad
		}
	default:
		return id, p, bad
	}
	if len(rest) > maxPurgePattern {
		return id, p, bad
	}
	p.Pattern = string(rest)
	return id, p, nil
}

func encodeDigest(node string, digest []byte) []byte {
	if len(node) > 255 || len(digest) > maxDigest {
		return nil
	}
	b := make([]byte, 0, 2+len(node)+len(digest))
	b = append(b, msgDigest, byte(len(node)))
	b = append(b, node...)
	return append(b, digest...)
}

func decodeDigest(msg []byte) (node string, digest []byte, err error) {
	if len(msg) < 2 || msg[0] != msgDigest || len(msg) < 2+int(msg[1]) || len(msg)-2-int(msg[1]) > maxDigest {
		return "", nil, errors.New("cluster: malformed digest message")
	}
	n := int(msg[1])
	return string(msg[2 : 2+n]), msg[2+n:], nil
}

func encodeLeave(node string) []byte {
	if node == "" || len(node) > 255 {
		return nil
	}
	return append([]byte{msgLeave}, node...)
}

func decodeLeave(msg []byte) (node string, err error) {
	if len(msg) < 2 || len(msg) > 256 || msg[0] != msgLeave {
		return "", errors.New("cluster: malformed leave message")
	}
	return string(msg[1:]), nil
}

// broadcast is a named memberlist broadcast: queuing one replaces a queued broadcast of the same
// name, so a newer delta for a record supersedes an older one still waiting to go out.
type broadcast struct {
	name string
	msg  []byte
}

var _ memberlist.NamedBroadcast = (*broadcast)(nil)

func (b *broadcast) Name() string    { return b.name }
func (b *broadcast) Message() []byte { return b.msg }
func (b *broadcast) Finished()       {}

// Invalidates reports whether o has the same name (memberlist's contract for named broadcasts).
func (b *broadcast) Invalidates(o memberlist.Broadcast) bool {
	nb, ok := o.(memberlist.NamedBroadcast)
	return ok && nb.Name() == b.name
}
