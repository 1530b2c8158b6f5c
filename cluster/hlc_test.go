package cluster

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time  { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) set(t time.Time) { f.mu.Lock(); f.t = t; f.mu.Unlock() }

func TestHLCNowMonotonic(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	clk := &fakeClock{t: base}
	h := NewHLC(clk.now, 0)
	a := h.Now()
	b := h.Now() // same wall time: logical advances
	clk.set(base.Add(-time.Second))
	c := h.Now() // wall clock went backwards: still after b
	clk.set(base.Add(time.Second))
	d := h.Now()
	for i, pair := range [][2]Timestamp{{a, b}, {b, c}, {c, d}} {
		if pair[0].Compare(pair[1]) >= 0 {
			t.Errorf("step %d: %v not before %v", i, pair[0], pair[1])
		}
	}
	if d != (Timestamp{Wall: base.Add(time.Second).UnixNano()}) {
		t.Errorf("after the wall clock moves on, got %v, want logical 0 at the new wall time", d)
	}
}

func TestHLCUpdate(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name         string
		last, remote Timestamp
		want         Timestamp
	}{
		{"wall clock ahead of both", Timestamp{base.UnixNano() - 10, 5}, Timestamp{base.UnixNano() - 5, 9}, Timestamp{base.UnixNano(), 0}},
		{"remote ahead", Timestamp{base.UnixNano(), 3}, Timestamp{base.UnixNano() + 50, 7}, Timestamp{base.UnixNano() + 50, 8}},
		{"local ahead", Timestamp{base.UnixNano() + 50, 3}, Timestamp{base.UnixNano() + 10, 7}, Timestamp{base.UnixNano() + 50, 4}},
		{"equal walls", Timestamp{base.UnixNano() + 50, 3}, Timestamp{base.UnixNano() + 50, 7}, Timestamp{base.UnixNano() + 50, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHLC(func() time.Time { return base }, time.Second)
			h.last = tt.last
			got, err := h.Update(tt.remote)
			if err != nil || got != tt.want {
				t.Fatalf("Update = %v, %v; want %v", got, err, tt.want)
			}
			if got.Compare(tt.remote) <= 0 || got.Compare(tt.last) <= 0 {
				t.Fatalf("%v is not after both %v and %v", got, tt.last, tt.remote)
			}
		})
	}
}

func TestHLCRefusesFarFuture(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	h := NewHLC(func() time.Time { return base }, time.Second)
	before := h.Now()
	_, err := h.Update(Timestamp{Wall: base.Add(time.Hour).UnixNano()})
	if !errors.Is(err, ErrClockSkew) {
		t.Fatalf("Update(far future) error = %v, want ErrClockSkew", err)
	}
	if after := h.Now(); after.Wall != before.Wall {
		t.Fatalf("refused update moved the clock: %v then %v", before, after)
	}
}

func TestTimestampEncoding(t *testing.T) {
	a, b := Timestamp{Wall: 5, Logical: 9}, Timestamp{Wall: 6, Logical: 0}
	ea, _ := a.AppendBinary(nil)
	eb, _ := b.AppendBinary(nil)
	if string(ea) >= string(eb) {
		t.Error("encodings do not sort as timestamps")
	}
	got, err := ParseTimestamp(ea)
	if err != nil || got != a {
		t.Fatalf("ParseTimestamp = %v, %v; want %v", got, err, a)
	}
	if _, err := ParseTimestamp(ea[:5]); err == nil {
		t.Fatal("ParseTimestamp accepted a short input")
	}
}

func TestHLCConcurrent(t *testing.T) {
	h := NewHLC(nil, 0)
	const n = 8
	out := make([][]Timestamp, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for range 500 {
				out[i] = append(out[i], h.Now())
			}
		})
	}
	wg.Wait()
	seen := map[Timestamp]bool{}
	for _, ts := range out {
		for j, x := range ts {
			if seen[x] {
				t.Fatalf("duplicate timestamp %v", x)
			}
			seen[x] = true
			if j > 0 && ts[j-1].Compare(x) >= 0 {
				t.Fatalf("not increasing: %v then %v", ts[j-1], x)
			}
		}
	}
}
