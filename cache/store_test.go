package cache

import (
	"testing"
	"time"
)

// varyResponse is what an origin answers for path with Vary: Accept-Encoding.
func varyResponse(path, encoding string) *Object {
	return NewObject(path, &Response{
		Status:       200,
		Headers:      hdrs("Vary: Accept-Encoding", "Content-Encoding: "+encoding, "Surrogate-Key: page"),
		Body:         []byte(encoding),
		ResponseTime: time.Now(),
	}, time.Hour)
}

func TestLookupInsertVary(t *testing.T) {
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	p := &Policy{MaxTTL: time.Hour}
	gzipReq := newReq("a.com/page", "Accept-Encoding: gzip")
	brReq := newReq("a.com/page", "Accept-Encoding:  br ")
	plainReq := newReq("a.com/page")
	base := p.AppendKey(nil, gzipReq)
	if string(base) != string(p.AppendKey(nil, brReq)) {
		t.Fatal("the primary key should not depend on Accept-Encoding")
	}
	var buf []byte
	lookup := func(r Request) (*Object, bool) {
		var o *Object
		var ok bool
		o, buf, ok = Lookup(m, base, r, buf)
		return o, ok
	}

	if _, ok := lookup(gzipReq); ok {
		t.Fatal("hit on an empty store")
	}
	gz := varyResponse("/page", "gzip")
	buf = Insert(m, base, gzipReq, gz, buf)
	if o, ok := lookup(gzipReq); !ok || o != gz {
		t.Fatalf("gzip lookup = %v, %v; want the gzip variant", o, ok)
	}
	if _, ok := lookup(brReq); ok {
		t.Fatal("br request got the gzip variant")
	}
	if _, ok := lookup(plainReq); ok {
		t.Fatal("request without Accept-Encoding got the gzip variant")
	}
	marker, ok := m.Get(base)
	if !ok || !marker.IsVaryMarker() || len(marker.Body) != 0 || marker.Vary[0] != "accept-encoding" {
		t.Fatalf("primary key holds %+v, want a Vary marker", marker)
	}

	br := varyResponse("/page", "br")
	buf = Insert(m, base, newReq("a.com/page", "Accept-Encoding: br"), br, buf)
	if o, ok := lookup(brReq); !ok || o != br {
		t.Fatalf("br lookup (whitespace normalized) = %v, %v; want the br variant", o, ok)
	}
	if o, ok := lookup(gzipReq); !ok || o != gz {
		t.Fatalf("gzip variant lost after storing br: %v, %v", o, ok)
	}

	// Purging the path or the tag removes the marker and every variant.
	if n := m.Purge(Purge{Pattern: "tag:page"}); n != 3 {
		t.Fatalf("Purge(tag:page) = %d, want 3 (marker and two variants)", n)
	}
	if _, ok := lookup(gzipReq); ok {
		t.Fatal("hit after purge")
	}

	// A response that stops varying replaces the marker.
	plain := NewObject("/page", &Response{Status: 200, ResponseTime: time.Now()}, time.Hour)
	Insert(m, base, gzipReq, plain, buf)
	if o, ok := lookup(brReq); !ok || o != plain {
		t.Fatalf("lookup = %v, %v; want the non-varying object", o, ok)
	}

	// A varying response set directly under the primary key is not served:
	// which variant it is cannot be told.
	m.Set(base, varyResponse("/page", "gzip"))
	if o, ok := lookup(gzipReq); ok {
		t.Fatalf("lookup = %v; want a miss for a varying object under the primary key", o)
	}

	// Vary: * is never stored.
	star := &Object{Path: "/page", Status: 200, Stored: time.Now(), TTL: time.Hour, Vary: []string{"*"}}
	Insert(m, base, gzipReq, star, buf)
	if o, _ := lookup(gzipReq); o == star {
		t.Fatal("a Vary: * response was stored")
	}
}

func TestLookupAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	m := newMemory(t, MemoryConfig{MaxBytes: 1 << 20})
	r := newReq("a.com/page", "Accept-Encoding: gzip")
	base := (&Policy{}).AppendKey(nil, r)
	buf := Insert(m, base, r, varyResponse("/page", "gzip"), make([]byte, 0, 256))
	if _, _, ok := Lookup(m, base, r, buf); !ok {
		t.Fatal("no hit to measure")
	}
	n := testing.AllocsPerRun(1000, func() { _, buf, _ = Lookup(m, base, r, buf) })
	if n != 0 {
		t.Fatalf("Lookup through a Vary marker: %v allocations per run, want 0", n)
	}
}
