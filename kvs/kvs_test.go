package kvs_test

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/kvs"
)

func open(t *testing.T, dir string) *kvs.Stores {
	t.Helper()
	s, err := kvs.Open(dir, kvs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoresPersistAndLive checks that changes are durable across a reopen and visible at
// once through a Source taken before the store existed.
func TestStoresPersistAndLive(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	src := s.Source("site")
	if src() != nil {
		t.Fatal("a missing store has a snapshot")
	}
	if _, err := s.Create("site", map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("site", nil); !errors.Is(err, kvs.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := s.Put("site", "b", "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import("site", map[string]string{"c": "3", "a": "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("site", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("site", "b"); !errors.Is(err, kvs.ErrNotFound) {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := s.Import("other", map[string]string{"x": "y"}); err != nil {
		t.Fatalf("import creates: %v", err)
	}
	want := map[string]string{"a": "one", "c": "3"}
	if got := src().Data; !maps.Equal(got, want) {
		t.Fatalf("live snapshot %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	snap, err := s.Snapshot("site")
	if err != nil || !maps.Equal(snap.Data, want) || snap.Created.IsZero() || snap.Updated.Before(snap.Created) {
		t.Fatalf("after reopen: %+v, %v", snap, err)
	}
	if list := s.List(); len(list) != 2 || list[0].Name != "other" || list[1].KeyCount != 2 || list[1].Size != 6 {
		t.Fatalf("list: %+v", list)
	}
	if _, err := s.Get("site", "zz"); !errors.Is(err, kvs.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
}

// TestLimits checks CloudFront's limits, with errors that say which, and that a refused
// change loses nothing.
func TestLimits(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if _, err := s.Create("site", map[string]string{"keep": "me"}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("v", kvs.MaxValueBytes)
	for name, tt := range map[string]struct {
		key, value string
		want       error
		msg        string
	}{
		"empty key":    {"", "x", kvs.ErrInvalid, "must not be empty"},
		"long key":     {strings.Repeat("k", kvs.MaxKeyBytes+1), "x", kvs.ErrTooLarge, "over the limit of 512"},
		"long value":   {"k", big + "v", kvs.ErrTooLarge, "over the limit of 1024"},
		"bad utf-8":    {"k\xff", "x", kvs.ErrInvalid, "UTF-8"},
		"limits exact": {strings.Repeat("k", kvs.MaxKeyBytes), big, nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Put("site", tt.key, tt.value)
			if !errors.Is(err, tt.want) || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("err = %v, want %v (%q)", err, tt.want, tt.msg)
			}
		})
	}
	// The store limit: fill to just under 5 MB, then one more item is refused.
	items := map[string]string{}
	for i := 0; len(items)*(8+kvs.MaxValueBytes) < kvs.MaxStoreBytes-20000; i++ {
		items[fmt.Sprintf("%08d", i)] = big
	}
	if _, err := s.Import("big", items); err != nil {
		t.Fatal(err)
	}
	more := map[string]string{}
	for i := 0; i < 30; i++ {
		more["more"+strconv.Itoa(i)] = big
	}
	if _, err := s.Import("big", more); !errors.Is(err, kvs.ErrTooLarge) || !strings.Contains(err.Error(), "5242880") {
		t.Fatalf("over the store limit: %v", err)
	}
	if info, _ := s.Describe("big"); info.KeyCount != len(items) {
		t.Fatalf("a refused import changed the store: %d keys", info.KeyCount)
	}
	if _, err := s.Create("bad/name", nil); !errors.Is(err, kvs.ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
}

func TestParseImport(t *testing.T) {
	for name, tt := range map[string]struct {
		in   string
		want map[string]string
		err  string
	}{
		"ok":        {`{"data":[{"key":"a","value":"1"},{"key":"b","value":"{\"x\":2}"}]}`, map[string]string{"a": "1", "b": `{"x":2}`}, ""},
		"empty":     {`{"data":[]}`, map[string]string{}, ""},
		"last wins": {`{"data":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}`, map[string]string{"a": "2"}, ""},
		"no data":   {`{}`, nil, "no \"data\" array"},
		"unknown":   {`{"data":[],"x":1}`, nil, "unknown field"},
		"no value":  {`{"data":[{"key":"a"}]}`, nil, "data[0] needs a string key and value"},
		"number":    {`{"data":[{"key":"a","value":1}]}`, nil, "cannot unmarshal"},
		"trailing":  {`{"data":[]} {}`, nil, "data after"},
		"long":      {`{"data":[{"key":"a","value":"` + strings.Repeat("x", 1025) + `"}]}`, nil, "data[0]: kvs: too large"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := kvs.ParseImport([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func FuzzParseImport(f *testing.F) {
	f.Add([]byte(`{"data":[{"key":"a","value":"1"}]}`))
	f.Add([]byte(`{"data":[{"key":"","value":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := kvs.ParseImport(b)
		if err != nil {
			return
		}
		size := 0
		for k, v := range m {
			if kvs.CheckItem(k, v) != nil {
				t.Fatalf("accepted a bad item %q", k)
			}
			size += len(k) + len(v)
		}
		if size > kvs.MaxStoreBytes {
			t.Fatalf("accepted %d bytes", size)
		}
	})
}

// TestMergeLastWriterWins checks the replication rules on two real stores: writes and
// deletions merge by stamp whatever the order, merging is idempotent, both sides end with the
// same digest, and malformed remote state is refused whole.
func TestMergeLastWriterWins(t *testing.T) {
	a, b := open2(t, "a"), open2(t, "b")
	if _, err := a.Create("site", map[string]string{"k1": "a1", "k2": "a2"}); err != nil {
		t.Fatal(err)
	}
	snapA, _ := a.Replica().Snapshot()
	if err := b.Replica().Merge(snapA); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put("site", "k1", "b1"); err != nil { // later than a's write
		t.Fatal(err)
	}
	if _, err := a.Delete("site", "k2"); err != nil {
		t.Fatal(err)
	}
	sa, _ := a.Replica().Snapshot()
	sb, _ := b.Replica().Snapshot()
	for i := 0; i < 2; i++ { // twice: idempotent
		if err := a.Replica().Merge(sb); err != nil {
			t.Fatal(err)
		}
		if err := b.Replica().Merge(sa); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"k1": "b1"}
	for _, s := range []*kvs.Stores{a, b} {
		if snap, _ := s.Snapshot("site"); !maps.Equal(snap.Data, want) {
			t.Fatalf("data %v, want %v", snap.Data, want)
		}
	}
	if string(a.Replica().Digest()) != string(b.Replica().Digest()) {
		t.Fatal("digests differ after merging both ways")
	}
	for name, bad := range map[string]string{
		"format":   `{"node":"x"}`,
		"no stamp": "K\x01" + `{"node":"x","stores":[{"name":"s","created":"2026-01-01T00:00:00Z","items":{"k":{"v":"v","n":"x"}}}]}`,
		"bad name": "K\x01" + `{"node":"x","stores":[{"name":"a/b","created":"2026-01-01T00:00:00Z"}]}`,
		"json":     "K\x01{",
	} {
		if err := a.Replica().Merge([]byte(bad)); !errors.Is(err, kvs.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func open2(t *testing.T, node string) *kvs.Stores {
	t.Helper()
	s, err := kvs.Open(t.TempDir(), kvs.Options{Node: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func FuzzMerge(f *testing.F) {
	f.Add([]byte("K\x01" + `{"node":"x","stores":[{"name":"s","created":"2026-01-01T00:00:00Z","items":{"k":{"v":"v","w":5,"n":"x"}}}]}`))
	f.Add([]byte("K\x01" + `{"node":"x","stores":[{"name":"s","created":"2026-01-01T00:00:00Z","items":{"k":{"d":true,"w":5,"n":"x"}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := kvs.Open(t.TempDir(), kvs.Options{Node: "n"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.Replica().Merge(b) != nil {
			return
		}
		d := s.Replica().Digest()
		if s.Replica().Merge(b) != nil || string(s.Replica().Digest()) != string(d) {
			t.Fatal("merging the same state twice changed it")
		}
	})
}

// TestMergeClockSkewAndTombstoneTTL: a remote write stamped beyond the skew bound waits, and
// a tombstone older than its TTL is dropped when the stores are opened.
func TestMergeClockSkewAndTombstoneTTL(t *testing.T) {
	dir := t.TempDir()
	s, err := kvs.Open(dir, kvs.Options{Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("site", map[string]string{"k": "v", "gone": "x"}); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).UnixNano()
	remote := fmt.Sprintf("K\x01"+`{"node":"b","stores":[{"name":"site","created":"2026-01-01T00:00:00Z","items":{"k":{"v":"future","w":%d,"n":"b"}}}]}`, future)
	if err := s.Replica().Merge([]byte(remote)); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("site", "k"); v != "v" {
		t.Fatalf("a write an hour ahead was merged: %q", v)
	}
	if _, err := s.Delete("site", "gone"); err != nil {
		t.Fatal(err)
	}
	withTomb := s.Replica().Digest()
	s.Close()
	s, err = kvs.Open(dir, kvs.Options{Node: "a", TombstoneTTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if string(s.Replica().Digest()) == string(withTomb) {
		t.Fatal("the expired tombstone was kept")
	}
	if snap, _ := s.Snapshot("site"); !maps.Equal(snap.Data, map[string]string{"k": "v"}) {
		t.Fatalf("data %v", snap.Data)
	}
}
