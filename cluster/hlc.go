package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Timestamp is a hybrid logical clock reading: wall-clock nanoseconds since the Unix epoch and a
// logical counter that orders events within one wall-clock value. Timestamps from the HLCs of
// one fleet are totally ordered by Compare; records that need a deterministic winner between
// equal timestamps break the tie with the writer's node name.
type Timestamp struct {
	Wall    int64  // nanoseconds since the Unix epoch
	Logical uint32 // counter within Wall
}

// TimestampSize is the length of a Timestamp's binary encoding.
const TimestampSize = 12

// Compare returns -1, 0 or +1 as t is before, equal to or after u.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.Wall < u.Wall:
		return -1
	case t.Wall > u.Wall:
		return 1
	case t.Logical < u.Logical:
		return -1
	case t.Logical > u.Logical:
		return 1
	}
	return 0
}

// IsZero reports whether t is the zero Timestamp, which is before every reading of an HLC.
func (t Timestamp) IsZero() bool { return t == Timestamp{} }

// String formats t as RFC 3339 with nanoseconds and the logical counter.
func (t Timestamp) String() string {
	return fmt.Sprintf("%s+%d", time.Unix(0, t.Wall).UTC().Format(time.RFC3339Nano), t.Logical)
}

// AppendBinary appends t's 12-byte big-endian encoding to b; encodings sort as timestamps do.
func (t Timestamp) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Wall))
	return binary.BigEndian.AppendUint32(b, t.Logical), nil
}

// ParseTimestamp decodes the encoding AppendBinary produces.
func ParseTimestamp(b []byte) (Timestamp, error) {
	if len(b) != TimestampSize {
		return Timestamp{}, fmt.Errorf("cluster: timestamp is %d bytes, want %d", len(b), TimestampSize)
	}
	return Timestamp{Wall: int64(binary.BigEndian.Uint64(b)), Logical: binary.BigEndian.Uint32(b[8:])}, nil
}

// ErrClockSkew is returned by (*HLC).Update for a remote timestamp too far in the future.
var ErrClockSkew = errors.New("cluster: remote timestamp too far ahead of the local clock")

// HLC is a hybrid logical clock (Kulkarni et al., 2014): its readings follow the wall clock,
// never go backwards, and order every event after the events it has seen. Safe for concurrent
// use; the zero value is not usable, call NewHLC.
type HLC struct {
	now       func() time.Time
	maxOffset time.Duration

	mu   sync.Mutex
	last Timestamp
}

// NewHLC returns an HLC reading now (nil: time.Now). maxOffset bounds how far ahead of the local
// wall clock a remote timestamp may be for Update to adopt it; 0 means no bound.
func NewHLC(now func() time.Time, maxOffset time.Duration) *HLC {
	if now == nil {
		now = time.Now
	}
	return &HLC{now: now, maxOffset: maxOffset}
}

// Now returns a timestamp for a local event, after every timestamp this clock returned or saw.
func (c *HLC) Now() Timestamp {
	pt := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if pt > c.last.Wall {
		c.last = Timestamp{Wall: pt}
	} else {
		c.last.Logical++
	}
	return c.last
}

// Update records a remote timestamp (from a received record) and returns a timestamp after both
// it and every earlier reading. A remote timestamp more than maxOffset ahead of the local wall
// clock is refused with ErrClockSkew and leaves the clock unchanged, so one peer with a wrong
// clock cannot drag the fleet's clocks into the future.
func (c *HLC) Update(remote Timestamp) (Timestamp, error) {
	pt := c.now().UnixNano()
	if c.maxOffset > 0 && remote.Wall-pt > int64(c.maxOffset) {
		return Timestamp{}, fmt.Errorf("%w: %s ahead", ErrClockSkew, time.Duration(remote.Wall-pt))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case pt > c.last.Wall && pt > remote.Wall:
		c.last = Timestamp{Wall: pt}
	case remote.Wall > c.last.Wall:
		c.last = Timestamp{Wall: remote.Wall, Logical: remote.Logical + 1}
	case c.last.Wall > remote.Wall:
		c.last.Logical++
	default: // equal walls
		c.last.Logical = max(c.last.Logical, remote.Logical) + 1
	}
	return c.last, nil
}
