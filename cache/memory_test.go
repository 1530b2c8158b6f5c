package cache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that every test closes its Memory: ristretto's goroutines
// must not outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newMemory(t testing.TB, cfg MemoryConfig) *Memory {
	t.Helper()
	m, err := NewMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// testObject is a fresh object for path with a body of n bytes and tags.
func testObject(path string, n int, tags ...string) *Object {
	return &Object{Path: path, Status: 200, Body: make([]byte, n), Stored: time.Now(), TTL: time.Hour, Tags: tags}
}

// checkConsistent verifies the side index against ristretto: every indexed
// object is what Get returns for its key, and bytes is the sum of sizes.
func checkConsistent(t *testing.T, m *Memory) {
	t.Helper()
	for i := range m.index {
		m.index[i].mu.Lock()
	}
	var objs []*Object
	var sum int64
	for i := range m.index {
		for _, o := range m.index[i].objs {
			objs = append(objs, o)
			sum += o.Size()
		}
	}
	bytes := m.bytes.Load()
	for i := range m.index {
		m.index[i].mu.Unlock()
	}
	if sum != bytes {
		t.Errorf("index bytes = %d, sum of sizes = %d", bytes, sum)
	}
	for _, o := range objs {
		if got, ok := m.Get([]byte(o.Key)); !ok || got != o {
			t.Errorf("indexed object %q: Get = %p, %v; want %p", o.Key, got, ok, o)
		}
	}
}

func TestNewMemoryErrors(t *testing.T) {
	for _, cfg := range []MemoryConfig{
		{},
		{MaxBytes: -1},
		{MaxBytes: 1 << 20, MaxObjectBytes: -1},
		{MaxBytes: 1 << 20, ExpectedObjectBytes: -1},
	} {
		if m, err := NewMemory(cfg); err == nil {
			m.Close()
			t.Errorf("NewMemory(%+v) succeeded", cfg)
		} else if !strings.HasPrefix(err.Error(), "cache: memory: ") {
			t.Errorf("error %q lacks the component prefix", err)
		}
	}
}

func TestMemorySetGet(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	o := testObject("/a", 10)
	m.Set([]byte("k1"), o)
	if o.Key != "k1" {
		t.Errorf("Set left Key = %q, want it filled in", o.Key)
	}
	if got, ok := m.Get([]byte("k1")); !ok || got != o {
		t.Fatalf("Get(k1) = %p, %v; want %p", got, ok, o)
	}
	if _, ok := m.Get([]byte("k2")); ok {
		t.Fatal("Get(k2) hit, never set")
	}

	// An object already keyed for another key is stored as a copy.
	m.Set([]byte("k2"), o)
	got, ok := m.Get([]byte("k2"))
	if !ok || got == o || got.Key != "k2" || got.Path != "/a" {
		t.Fatalf("Get(k2) = %+v, %v; want a copy keyed k2", got, ok)
	}
	if o.Key != "k1" {
		t.Errorf("Set changed the original's Key to %q", o.Key)
	}
	if n, b := m.Stats(); n != 2 || b != o.Size()+got.Size() {
		t.Errorf("Stats = %d, %d; want 2, %d", n, b, o.Size()+got.Size())
	}

	// Set copies the key: reusing the caller's buffer changes nothing.
	buf := []byte("k3")
	m.Set(buf, testObject("/c", 1))
	copy(buf, "zz")
	if _, ok := m.Get([]byte("k3")); !ok {
		t.Error("Get(k3) missed after the caller reused its key buffer")
	}
	m.Set([]byte("k4"), nil) // ignored
	checkConsistent(t, m)
}

// TestMemoryVerifiesKey plants an object under a key whose hashes match but
// whose Key differs, as a hash collision would, and expects a miss.
func TestMemoryVerifiesKey(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	o := testObject("/", 1)
	o.Key = "another key"
	m.cache.Set([]byte("k"), o, o.Size())
	m.cache.Wait()
	if raw, ok := m.cache.Get([]byte("k")); !ok || raw != o {
		t.Fatal("could not plant the object")
	}
	if got, ok := m.Get([]byte("k")); ok {
		t.Fatalf("Get returned %q for key k", got.Key)
	}
}

func TestMemoryReplace(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	k := []byte("k")
	for i, size := range []int{1000, 10, 5000, 5000, 1} { // shrink, grow, same, shrink
		o := testObject(fmt.Sprint("/", i), size)
		m.Set(k, o)
		if got, ok := m.Get(k); !ok || got != o {
			t.Fatalf("step %d: Get = %p, %v; want the latest %p", i, got, ok, o)
		}
		if n, b := m.Stats(); n != 1 || b != o.Size() {
			t.Fatalf("step %d: Stats = %d, %d; want 1, %d", i, n, b, o.Size())
		}
	}
	checkConsistent(t, m)
}

func TestMemoryMaxObjectBytes(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20, MaxObjectBytes: 2000})
	small, big := testObject("/", 100), testObject("/", 5000)
	m.Set([]byte("big"), big)
	if _, ok := m.Get([]byte("big")); ok {
		t.Fatal("an object over MaxObjectBytes was stored")
	}
	m.Set([]byte("k"), small)
	m.Set([]byte("k"), testObject("/", 5000)) // refused: the old version goes too
	if got, ok := m.Get([]byte("k")); ok {
		t.Fatalf("Get = %p after a refused replacement; want a miss", got)
	}
	if n, b := m.Stats(); n != 0 || b != 0 {
		t.Fatalf("Stats = %d, %d; want 0, 0", n, b)
	}
}

func TestMemoryBudget(t *testing.T) {
	const budget = 64 << 10
	m := newMemory(t, MemoryConfig{MaxBytes: budget, ExpectedObjectBytes: 1 << 10})
	var stored []*Object
	for i := range 500 {
		o := testObject(fmt.Sprint("/", i), 1<<10)
		m.Set(fmt.Appendf(nil, "k%d", i), o)
		stored = append(stored, o)
		if _, b := m.Stats(); b > budget {
			t.Fatalf("after %d sets, Stats bytes = %d > budget %d", i+1, b, budget)
		}
	}
	n, b := m.Stats()
	if n == 0 || n >= len(stored) || b > budget {
		t.Fatalf("Stats = %d objects, %d bytes; want some but not all %d, at most %d bytes", n, b, len(stored), budget)
	}
	hits := 0
	for _, o := range stored {
		if _, ok := m.Get([]byte(o.Key)); ok {
			hits++
		}
	}
	if hits != n {
		t.Errorf("%d keys hit, Stats says %d objects", hits, n)
	}
	checkConsistent(t, m)
}

func TestMemoryRetention(t *testing.T) {
	stale := func() *Object {
		return &Object{Path: "/", Status: 200, Stored: time.Now().Add(-time.Hour), TTL: time.Minute}
	}
	tests := []struct {
		name      string
		keepStale time.Duration
		obj       *Object
		want      bool
	}{
		{"fresh object stored", 0, testObject("/", 1), true},
		{"stale object dropped", 0, stale(), false},
		{"stale object kept with KeepStale", 2 * time.Hour, stale(), true},
		{"stale object beyond KeepStale dropped", 30 * time.Minute, stale(), false},
		{"stale object kept until evicted", -1, stale(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20, KeepStale: tt.keepStale})
			m.Set([]byte("k"), tt.obj)
			if _, ok := m.Get([]byte("k")); ok != tt.want {
				t.Fatalf("Get hit = %v, want %v", ok, tt.want)
			}
		})
	}

	// Expiry happens on time, and the injected clock decides freshness.
	clock := time.Now().Add(-time.Hour)
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20, Now: func() time.Time { return clock }})
	o := &Object{Path: "/", Status: 200, Stored: clock.Add(-time.Minute), TTL: time.Minute + 50*time.Millisecond}
	m.Set([]byte("k"), o)
	if _, ok := m.Get([]byte("k")); !ok {
		t.Fatal("Get missed an object fresh for 50ms more")
	}
	time.Sleep(150 * time.Millisecond)
	if _, ok := m.Get([]byte("k")); ok {
		t.Fatal("Get hit an object past its freshness")
	}
}

func TestMemoryPurge(t *testing.T) {
	objs := map[string]*Object{
		"home":     testObject("/", 1, "home"),
		"cat":      testObject("/images/cat.jpg", 1, "img", "pets"),
		"cat-webp": testObject("/images/cat.jpg", 1, "img"), // another variant of one path
		"deep":     testObject("/images/a/b.png", 1),
		"blog":     testObject("/blog/post", 1, "pets"),
	}
	tests := []struct {
		pattern string
		removed []string
	}{
		{"/images/cat.jpg", []string{"cat", "cat-webp"}},
		{"/images/*", []string{"cat", "cat-webp", "deep"}},
		{"/*.png", []string{"deep"}},
		{"/images", nil},
		{"tag:pets", []string{"cat", "blog"}},
		{"tag:none", nil},
		{"all", []string{"home", "cat", "cat-webp", "deep", "blog"}},
		{"bogus", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
			for k, o := range objs {
				cp := *o
				cp.Key = ""
				m.Set([]byte(k), &cp)
			}
			if n := m.Purge(Purge{Pattern: tt.pattern}); n != len(tt.removed) {
				t.Errorf("Purge(%q) = %d, want %d", tt.pattern, n, len(tt.removed))
			}
			for k := range objs {
				_, ok := m.Get([]byte(k))
				if gone := strings.Contains(" "+strings.Join(tt.removed, " ")+" ", " "+k+" "); ok == gone {
					t.Errorf("after Purge(%q): Get(%s) hit = %v", tt.pattern, k, ok)
				}
			}
			if n, _ := m.Stats(); n != len(objs)-len(tt.removed) {
				t.Errorf("Stats objects = %d, want %d", n, len(objs)-len(tt.removed))
			}
			checkConsistent(t, m)
			// A purged key can be stored again.
			m.Set([]byte("home"), testObject("/", 1))
			if _, ok := m.Get([]byte("home")); !ok {
				t.Error("Set after Purge did not store")
			}
		})
	}
}

// TestMemoryConcurrent mixes Set, Get and Purge from many goroutines under a
// budget small enough to evict; run it with -race.
func TestMemoryConcurrent(t *testing.T) {
	const budget = 32 << 10
	m := newMemory(t, MemoryConfig{MaxBytes: budget})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			key := make([]byte, 0, 16)
			for range 2000 {
				i := rng.IntN(64)
				key = fmt.Appendf(key[:0], "k%d", i)
				switch op := rng.IntN(100); {
				case op < 60:
					if o, ok := m.Get(key); ok && o.Key != string(key) {
						t.Errorf("Get(%s) returned %s", key, o.Key)
					}
				case op < 95:
					m.Set(key, testObject(fmt.Sprint("/p/", i%8), rng.IntN(2000), fmt.Sprint("t", i%4)))
				case op < 98:
					m.Purge(Purge{Pattern: fmt.Sprint("tag:t", i%4)})
				default:
					m.Purge(Purge{Pattern: fmt.Sprint("/p/", i%8)})
				}
			}
		})
	}
	wg.Wait()
	if _, b := m.Stats(); b > budget {
		t.Errorf("Stats bytes = %d > budget %d", b, budget)
	}
	checkConsistent(t, m)
}

func TestMemoryClose(t *testing.T) {
	m, err := NewMemory(MemoryConfig{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	m.Set([]byte("k"), testObject("/", 1))
	m.Close()
	m.Close() // again: no effect
	if _, ok := m.Get([]byte("k")); ok {
		t.Error("Get hit after Close")
	}
	m.Set([]byte("k"), testObject("/", 1))
	if n := m.Purge(Purge{Pattern: "all"}); n != 0 {
		t.Errorf("Purge after Close = %d", n)
	}
	if n, b := m.Stats(); n != 0 || b != 0 {
		t.Errorf("Stats after Close = %d, %d", n, b)
	}
}

func TestMemoryGetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	hit, miss := []byte("www.example.com/hit"), []byte("www.example.com/miss")
	m.Set(hit, testObject("/hit", 100))
	if _, ok := m.Get(hit); !ok {
		t.Fatal("no hit to measure")
	}
	if n := testing.AllocsPerRun(1000, func() { m.Get(hit) }); n != 0 {
		t.Errorf("Get hit: %v allocations per run, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { m.Get(miss) }); n != 0 {
		t.Errorf("Get miss: %v allocations per run, want 0", n)
	}
}

func TestMemoryDelete(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	m.Set([]byte("a"), testObject("/a", 10))
	m.Set([]byte("b"), testObject("/b", 10))
	if !m.Delete([]byte("a")) {
		t.Fatal("Delete(a) removed nothing")
	}
	if m.Delete([]byte("a")) || m.Delete([]byte("none")) {
		t.Fatal("Delete removed something twice, or what was never stored")
	}
	if _, ok := m.Get([]byte("a")); ok {
		t.Fatal("a is still stored")
	}
	if _, ok := m.Get([]byte("b")); !ok {
		t.Fatal("b went too")
	}
	checkConsistent(t, m)
}

// TestSoftPurge: matching objects stay, stale from now; others keep their freshness.
func TestSoftPurge(t *testing.T) {
	clock := time.Now()
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20, KeepStale: time.Hour, Now: func() time.Time { return clock }})
	a, b := testObject("/a", 10), testObject("/b", 10)
	a.Stored, b.Stored = clock, clock
	m.Set([]byte("a"), a)
	m.Set([]byte("b"), b)
	if n := m.Purge(Purge{Pattern: "/a", Soft: true}); n != 1 {
		t.Fatalf("SoftPurge marked %d, want 1", n)
	}
	got, ok := m.Get([]byte("a"))
	if !ok || got.Fresh(clock) || got.Body == nil || got.Path != "/a" {
		t.Fatalf("a after a soft purge: %+v, %v; want it kept, stale", got, ok)
	}
	if got, ok := m.Get([]byte("b")); !ok || !got.Fresh(clock) {
		t.Fatal("b lost its freshness")
	}
	if n := m.Purge(Purge{Pattern: "/a", Soft: true}); n != 0 {
		t.Fatalf("a stale object was marked again (%d)", n)
	}
	if n := m.Purge(Purge{Pattern: "[bad", Soft: true}); n != 0 {
		t.Fatalf("an invalid pattern marked %d", n)
	}
	checkConsistent(t, m)
}

// A purge with a host removes only that site's objects; the host is compared as the edge
// normalises it (case, a trailing dot, a default port).
func TestPurgeOneHost(t *testing.T) {
	tests := []struct {
		purge   Purge
		removed []string // keys
	}{
		{Purge{Pattern: "all", Host: "a.example"}, []string{"a1", "a2"}},
		{Purge{Pattern: "/p", Host: "A.Example."}, []string{"a1"}},
		{Purge{Pattern: "/p", Host: "b.example:443"}, []string{"b1"}},
		{Purge{Pattern: "/p"}, []string{"a1", "b1"}},
		{Purge{Pattern: "all", Host: "c.example"}, nil},
	}
	for _, tt := range tests {
		m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
		objs := map[string]*Object{"a1": testObject("/p", 10), "a2": testObject("/q", 10), "b1": testObject("/p", 10)}
		objs["a1"].Host, objs["a2"].Host, objs["b1"].Host = "a.example", "a.example", "b.example"
		for k, o := range objs {
			m.Set([]byte(k), o)
		}
		if n := m.Purge(tt.purge); n != len(tt.removed) {
			t.Errorf("%+v: purged %d, want %d", tt.purge, n, len(tt.removed))
		}
		for k := range objs {
			_, ok := m.Get([]byte(k))
			if ok == slices.Contains(tt.removed, k) {
				t.Errorf("%+v: %s stored %v", tt.purge, k, ok)
			}
		}
	}
}

// Objects the store drops to stay within its budget are counted, for verge_cache_evictions_total.
func TestMemoryCountsEvictions(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 64 << 10})
	for i := range 200 {
		m.Set(fmt.Appendf(nil, "k%d", i), testObject(fmt.Sprint("/p", i), 4<<10))
	}
	objects, bytes := m.Stats()
	if bytes > 64<<10 || m.Evictions() == 0 || int(m.Evictions())+objects > 200 {
		t.Fatalf("%d objects, %d bytes held, %d evictions: want the budget kept by evicting", objects, bytes, m.Evictions())
	}
}
