package cache

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkMemoryGet(b *testing.B) {
	m := newMemory(b, MemoryConfig{MaxBytes: 64 << 20})
	const n = 1024
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "\x31\x0fwww.example.com\x0c/assets/%04d", i)
		m.Set(keys[i], testObject("/assets", 4096))
	}
	miss := []byte("\x31\x0fwww.example.com\x0a/not/there")
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := m.Get(keys[i%n]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Get(miss)
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m.Get(keys[i%n])
				i++
			}
		})
	})
}

func BenchmarkMemorySet(b *testing.B) {
	m := newMemory(b, MemoryConfig{MaxBytes: 64 << 20})
	key := make([]byte, 0, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key = fmt.Appendf(key[:0], "k%d", i%4096)
		m.Set(key, testObject("/", 1024))
		i++
	}
}

func BenchmarkAppendKey(b *testing.B) {
	r := newReq("Www.Example.com/images/2026/cat.jpg?w=640&h=480&utm_source=news&fmt=webp",
		"Accept-Language: en-GB,en;q=0.9", "Accept-Encoding: gzip, deflate, br", "X-Device: mobile",
		"Cookie: session=0123456789abcdef; theme=dark")
	policies := []struct {
		name string
		p    *Policy
	}{
		{"host-path", &Policy{}},
		{"query-all", &Policy{QueryStrings: QueryAll}},
		{"query-allow", &Policy{QueryStrings: QueryAllow, QueryNames: []string{"w", "h", "fmt"}}},
		{"query-deny", &Policy{QueryStrings: QueryDeny, QueryNames: []string{"utm_source"}}},
		{"headers-cookies", &Policy{Headers: []string{"Accept-Language", "X-Device"}, Cookies: []string{"session"}}},
	}
	buf := make([]byte, 0, 512)
	for _, pc := range policies {
		b.Run(pc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf = pc.p.AppendKey(buf[:0], r)
			}
		})
	}
	b.Run("vary", func(b *testing.B) {
		base := (&Policy{}).AppendKey(nil, r)
		vary := []string{"accept-encoding"}
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendVaryKey(buf[:0], base, vary, r)
		}
	})
}

func BenchmarkFreshness(b *testing.B) {
	h := hdrs("Content-Type: text/html", "Cache-Control: public, max-age=600, stale-while-revalidate=30",
		"Date: "+httpDate(now), "ETag: \"abc\"", "Vary: Accept-Encoding")
	p := &Policy{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		Freshness("GET", 200, h, false, now, p)
	}
}
