package cache

import (
	"strings"
	"testing"
	"time"
)

// now is the fixed clock of the freshness and age tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func httpDate(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") }

// hdrs builds headers from "Name: value" lines.
func hdrs(lines ...string) []Header {
	hs := make([]Header, 0, len(lines))
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		hs = append(hs, Header{name, strings.TrimPrefix(value, " ")})
	}
	return hs
}

func TestFreshness(t *testing.T) {
	std := &Policy{MinTTL: 0, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	minTen := &Policy{MinTTL: 10 * time.Minute, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	const (
		noStore = time.Duration(-1) // want store == false
	)
	tests := []struct {
		name   string
		method string // default GET
		status int    // default 200
		hdrs   []string
		auth   bool
		policy *Policy // default std
		noPol  bool    // pass a nil policy
		want   time.Duration
	}{
		// Methods.
		{name: "GET max-age", hdrs: []string{"Cache-Control: max-age=60"}, want: time.Minute},
		{name: "HEAD max-age", method: "HEAD", hdrs: []string{"Cache-Control: max-age=60"}, want: time.Minute},
		{name: "POST never", method: "POST", hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "PUT never", method: "PUT", hdrs: []string{"Cache-Control: public, max-age=60"}, want: noStore},
		{name: "lower-case get is another method", method: "get", hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},

		// Directives that forbid storing.
		{name: "no-store", hdrs: []string{"Cache-Control: no-store, max-age=60"}, want: noStore},
		{name: "no-store beats min TTL", policy: minTen, hdrs: []string{"Cache-Control: no-store"}, want: noStore},
		{name: "private", hdrs: []string{"Cache-Control: private, max-age=60"}, want: noStore},
		{name: "private qualified", hdrs: []string{`Cache-Control: private="Set-Cookie", max-age=60`}, want: noStore},
		{name: "private beats s-maxage", hdrs: []string{"Cache-Control: s-maxage=60, private"}, want: noStore},
		{name: "Vary star", hdrs: []string{"Cache-Control: max-age=60", "Vary: *"}, want: noStore},
		{name: "Vary star in a list", hdrs: []string{"Cache-Control: max-age=60", "Vary: Accept-Encoding , *"}, want: noStore},
		{name: "Vary names are fine", hdrs: []string{"Cache-Control: max-age=60", "Vary: Accept-Encoding"}, want: time.Minute},
		{name: "no-cache", hdrs: []string{"Cache-Control: no-cache"}, want: noStore},
		{name: "no-cache beats max-age", hdrs: []string{"Cache-Control: max-age=60, no-cache"}, want: noStore},
		{name: "no-cache beats min TTL", policy: minTen, hdrs: []string{"Cache-Control: no-cache"}, want: noStore},
		{name: "no-cache qualified", hdrs: []string{`Cache-Control: no-cache="Set-Cookie", max-age=60`}, want: noStore},

		// Precedence: s-maxage > max-age > Expires.
		{name: "s-maxage beats max-age", hdrs: []string{"Cache-Control: max-age=60, s-maxage=120"}, want: 2 * time.Minute},
		{name: "s-maxage=0 beats max-age", hdrs: []string{"Cache-Control: max-age=60, s-maxage=0"}, want: noStore},
		{name: "max-age beats Expires", hdrs: []string{"Cache-Control: max-age=60", "Date: " + httpDate(now), "Expires: " + httpDate(now.Add(time.Hour))}, want: time.Minute},
		{name: "max-age beats invalid Expires", hdrs: []string{"Cache-Control: max-age=60", "Expires: 0"}, want: time.Minute},
		{name: "s-maxage beats Expires", hdrs: []string{"Cache-Control: s-maxage=30", "Expires: " + httpDate(now.Add(time.Hour))}, want: 30 * time.Second},

		// RFC 9213: CDN-Cache-Control is this cache's own, ahead of Cache-Control and Expires.
		{name: "RFC 9213 2.1: CDN-Cache-Control ahead of Cache-Control", hdrs: []string{"Cache-Control: max-age=60", "CDN-Cache-Control: max-age=600"}, want: 10 * time.Minute},
		{name: "RFC 9213 2.1: CDN-Cache-Control no-store", hdrs: []string{"Cache-Control: max-age=60", "cdn-cache-control: no-store"}, want: noStore},
		{name: "RFC 9213 2.1: Cache-Control ignored", hdrs: []string{"Cache-Control: no-store, private", "CDN-Cache-Control: max-age=60"}, want: time.Minute},
		{name: "RFC 9213 2.1: Expires ignored", status: 503, hdrs: []string{"CDN-Cache-Control: public", "Expires: " + httpDate(now.Add(time.Minute))}, want: noStore},
		{name: "RFC 9213 2.1: every line counts", hdrs: []string{"CDN-Cache-Control: public", "CDN-Cache-Control: s-maxage=30"}, want: 30 * time.Second},

		// Expires.
		{name: "Expires minus Date", hdrs: []string{"Date: " + httpDate(now.Add(-time.Hour)), "Expires: " + httpDate(now.Add(time.Hour))}, want: 2 * time.Hour},
		{name: "Expires minus now without Date", hdrs: []string{"Expires: " + httpDate(now.Add(5*time.Minute))}, want: 5 * time.Minute},
		{name: "Expires minus now with invalid Date", hdrs: []string{"Date: yesterday", "Expires: " + httpDate(now.Add(5*time.Minute))}, want: 5 * time.Minute},
		{name: "Expires in RFC 850 form", hdrs: []string{"Date: " + httpDate(now), "Expires: Sunday, 01-Mar-26 12:10:00 GMT"}, want: 10 * time.Minute},
		{name: "Expires in asctime form", hdrs: []string{"Date: " + httpDate(now), "Expires: Sun Mar  1 12:10:00 2026"}, want: 10 * time.Minute},
		{name: "Expires in the past", hdrs: []string{"Date: " + httpDate(now), "Expires: " + httpDate(now.Add(-time.Minute))}, want: noStore},
		{name: "Expires equal to Date", hdrs: []string{"Date: " + httpDate(now), "Expires: " + httpDate(now)}, want: noStore},
		{name: "invalid Expires is expired", hdrs: []string{"Expires: 0"}, want: noStore},
		{name: "invalid Expires is expired, not default", status: 404, hdrs: []string{"Expires: never"}, want: noStore},
		{name: "invalid Expires takes min TTL", policy: minTen, hdrs: []string{"Expires: -1"}, want: 10 * time.Minute},
		{name: "first Expires wins", hdrs: []string{"Expires: " + httpDate(now.Add(time.Minute)), "Expires: 0"}, want: time.Minute},

		// Clamping to [MinTTL, MaxTTL].
		{name: "max-age raised to min", policy: minTen, hdrs: []string{"Cache-Control: max-age=5"}, want: 10 * time.Minute},
		{name: "max-age=0 raised to min", policy: minTen, hdrs: []string{"Cache-Control: max-age=0"}, want: 10 * time.Minute},
		{name: "max-age=0 not stored", hdrs: []string{"Cache-Control: max-age=0"}, want: noStore},
		{name: "max-age capped at max", hdrs: []string{"Cache-Control: max-age=31536000"}, want: 24 * time.Hour},
		{name: "s-maxage capped at max", hdrs: []string{"Cache-Control: s-maxage=99999999999999"}, want: 24 * time.Hour},
		{name: "Expires capped at max", hdrs: []string{"Expires: " + httpDate(now.Add(30*24*time.Hour))}, want: 24 * time.Hour},
		{name: "Expires past raised to min", policy: minTen, hdrs: []string{"Expires: " + httpDate(now.Add(-time.Hour))}, want: 10 * time.Minute},
		{name: "zero policy stores nothing", policy: &Policy{}, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "nil policy stores nothing", noPol: true, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},

		// Default TTL and statuses.
		{name: "default TTL for 200", want: time.Hour},
		{name: "default TTL for 404", status: 404, want: time.Hour},
		{name: "default TTL for 301", status: 301, want: time.Hour},
		{name: "no default TTL for 302", status: 302, want: noStore},
		{name: "no default TTL for 307", status: 307, want: noStore},
		{name: "no default TTL for 500", status: 500, want: noStore},
		{name: "no default TTL for 503", status: 503, want: noStore},
		{name: "explicit freshness for 302", status: 302, hdrs: []string{"Cache-Control: max-age=60"}, want: time.Minute},
		{name: "explicit freshness for 500", status: 500, hdrs: []string{"Cache-Control: max-age=60"}, want: time.Minute},
		{name: "explicit Expires for 503", status: 503, hdrs: []string{"Expires: " + httpDate(now.Add(time.Minute))}, want: time.Minute},
		{name: "never 206", status: 206, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "never 304", status: 304, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "never 1xx", status: 103, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "never out of range", status: 600, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "public alone uses default TTL", hdrs: []string{"Cache-Control: public"}, want: time.Hour},
		{name: "default TTL capped", policy: &Policy{DefaultTTL: 2 * time.Hour, MaxTTL: time.Hour}, want: time.Hour},

		// Authorization (RFC 9111 3.5).
		{name: "auth without permission", auth: true, hdrs: []string{"Cache-Control: max-age=60"}, want: noStore},
		{name: "auth without anything", auth: true, want: noStore},
		{name: "auth with public", auth: true, hdrs: []string{"Cache-Control: public, max-age=60"}, want: time.Minute},
		{name: "auth with s-maxage", auth: true, hdrs: []string{"Cache-Control: s-maxage=60"}, want: time.Minute},
		{name: "auth with must-revalidate", auth: true, hdrs: []string{"Cache-Control: must-revalidate, max-age=60"}, want: time.Minute},
		{name: "auth with proxy-revalidate is not enough", auth: true, hdrs: []string{"Cache-Control: proxy-revalidate, max-age=60"}, want: noStore},

		// Set-Cookie.
		{name: "Set-Cookie without permission", hdrs: []string{"Cache-Control: max-age=60", "Set-Cookie: id=1"}, want: noStore},
		{name: "Set-Cookie without anything", hdrs: []string{"Set-Cookie: id=1"}, want: noStore},
		{name: "Set-Cookie with public", hdrs: []string{"Cache-Control: public, max-age=60", "Set-Cookie: id=1"}, want: time.Minute},
		{name: "Set-Cookie with s-maxage", hdrs: []string{"Cache-Control: s-maxage=60", "set-cookie: id=1"}, want: time.Minute},
		{name: "Set-Cookie with must-revalidate is not enough", hdrs: []string{"Cache-Control: must-revalidate, max-age=60", "Set-Cookie: id=1"}, want: noStore},

		// Parsing details.
		{name: "header names case-insensitive", hdrs: []string{"cache-CONTROL: max-age=60"}, want: time.Minute},
		{name: "directive names case-insensitive", hdrs: []string{"Cache-Control: Max-Age=60"}, want: time.Minute},
		{name: "quoted max-age", hdrs: []string{`Cache-Control: max-age="60"`}, want: time.Minute},
		// RFC 9111 4.2.1: invalid freshness information is taken as stale (nginx does the same).
		// A no-store, no-cache or private inside a malformed directive still counts: ignoring
		// it would put a private answer in the shared cache.
		{name: "no-store with a stray semicolon", hdrs: []string{"Cache-Control: no-store;"}, want: noStore},
		{name: "semicolons for commas, no-store second", hdrs: []string{"Cache-Control: no-cache; no-store"}, want: noStore},
		{name: "semicolons for commas, private first", hdrs: []string{"Cache-Control: private; max-age=600"}, want: noStore},
		{name: "semicolons for commas, private second", hdrs: []string{"Cache-Control: max-age=0; private"}, want: noStore},
		{name: "junk after no-store", hdrs: []string{"Cache-Control: no-store x"}, want: noStore},
		{name: "no-store with an empty value", hdrs: []string{"Cache-Control: no-store="}, want: noStore},
		{name: "private with an unterminated qualifier", hdrs: []string{`Cache-Control: max-age=600, private="x`}, want: noStore},
		{name: "no-store inside a quoted string is not a directive", hdrs: []string{`Cache-Control: max-age=60, x="no-store" y`}, want: time.Minute},
		{name: "invalid max-age is stale", hdrs: []string{"Cache-Control: max-age=6o"}, want: noStore},
		{name: "invalid max-age wins over Expires", hdrs: []string{"Cache-Control: max-age=-1", "Expires: " + httpDate(now.Add(time.Minute))}, want: noStore},
		{name: "invalid s-maxage is stale", hdrs: []string{"Cache-Control: s-maxage=soon, max-age=60"}, want: noStore},
		{name: "max-age without a value is stale", hdrs: []string{"Cache-Control: max-age"}, want: noStore},
		{name: "the first max-age wins, invalid or not", hdrs: []string{"Cache-Control: max-age=60, max-age=x"}, want: time.Minute},
		{name: "malformed directive, others apply", hdrs: []string{"Cache-Control: max-age=60, =junk, no-store"}, want: noStore},
		{name: "garbage between directives", hdrs: []string{`Cache-Control: "x" y, max-age=60`}, want: time.Minute},
		{name: "several lines merge", hdrs: []string{"Cache-Control: public", "Cache-Control: max-age=60"}, want: time.Minute},
		{name: "first max-age wins", hdrs: []string{"Cache-Control: max-age=60", "Cache-Control: max-age=120"}, want: time.Minute},
		{name: "no-store in second line", hdrs: []string{"Cache-Control: max-age=60", "Cache-Control: no-store"}, want: noStore},
		{name: "Pragma is ignored", hdrs: []string{"Cache-Control: max-age=60", "Pragma: no-cache"}, want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, status, policy := tt.method, tt.status, tt.policy
			if method == "" {
				method = "GET"
			}
			if status == 0 {
				status = 200
			}
			if policy == nil && !tt.noPol {
				policy = std
			}
			ttl, store := Freshness(method, status, hdrs(tt.hdrs...), tt.auth, now, policy)
			if tt.want == noStore {
				if store || ttl != 0 {
					t.Fatalf("Freshness = %v, %v; want not stored", ttl, store)
				}
				return
			}
			if !store || ttl != tt.want {
				t.Fatalf("Freshness = %v, %v; want %v, true", ttl, store, tt.want)
			}
		})
	}
}

// TestProvokedErrorsNotStored: the errors a request provokes (its size, its syntax, its
// method) say nothing about the resource, so even with explicit freshness they are never
// stored; one viewer's malformed request must not answer the next viewer's clean one.
func TestProvokedErrorsNotStored(t *testing.T) {
	p := &Policy{DefaultTTL: time.Hour, MaxTTL: time.Hour}
	for _, status := range []int{400, 413, 414, 431, 501} {
		for _, cc := range []string{"public, max-age=60", "s-maxage=60", ""} {
			if ttl, store := Freshness("GET", status, hdrs("Cache-Control: "+cc), false, now, p); store {
				t.Errorf("%d with %q: stored for %v", status, cc, ttl)
			}
		}
	}
}

// TestFreshnessHeuristicStatuses checks every status without explicit
// freshness: only the heuristically cacheable ones get the default TTL.
func TestFreshnessHeuristicStatuses(t *testing.T) {
	p := &Policy{DefaultTTL: time.Hour, MaxTTL: time.Hour}
	want := map[int]bool{200: true, 203: true, 204: true, 300: true, 301: true, 308: true,
		404: true, 405: true, 410: true}
	for status := 100; status < 600; status++ {
		ttl, store := Freshness("GET", status, nil, false, now, p)
		if store != want[status] || (store && ttl != time.Hour) {
			t.Errorf("status %d: Freshness = %v, %v; want store %v", status, ttl, store, want[status])
		}
	}
}

// TestRFC9111Section4_2_2HeuristicFreshness is RFC 9111 4.2.2: with Policy.Heuristic and no
// default TTL, a response without explicit freshness is fresh for a tenth of the time since
// its Last-Modified, at most MaxHeuristic, when its status is heuristically cacheable or it
// says public; never otherwise.
func TestRFC9111Section4_2_2HeuristicFreshness(t *testing.T) {
	on := &Policy{Heuristic: true, MaxTTL: 365 * 24 * time.Hour}
	lm := func(ago time.Duration) string { return "Last-Modified: " + httpDate(now.Add(-ago)) }
	date := "Date: " + httpDate(now)
	tests := []struct {
		name   string
		p      *Policy
		status int
		hdrs   []string
		want   time.Duration // 0: not stored
	}{
		{"a tenth of a day", on, 200, []string{lm(24 * time.Hour), date}, 144 * time.Minute},
		{"a tenth, without Date", on, 404, []string{lm(100 * time.Second)}, 10 * time.Second},
		{"capped at a day", on, 200, []string{lm(365 * 24 * time.Hour), date}, MaxHeuristic},
		{"410 is heuristically cacheable", on, 410, []string{lm(time.Hour), date}, 6 * time.Minute},
		{"a status the request provokes is never stored", on, 414, []string{lm(time.Hour), date, "Cache-Control: public"}, 0},
		{"another status needs public", on, 599, []string{lm(time.Hour), date}, 0},
		{"public allows any status", on, 599, []string{lm(time.Hour), date, "Cache-Control: public"}, 6 * time.Minute},
		{"no Last-Modified", on, 200, []string{date}, 0},
		{"Last-Modified in the future", on, 200, []string{lm(-time.Hour), date}, 0},
		{"Last-Modified not a date", on, 200, []string{"Last-Modified: yesterday", date}, 0},
		{"explicit freshness wins", on, 200, []string{lm(24 * time.Hour), date, "Cache-Control: max-age=5"}, 5 * time.Second},
		{"no-cache forbids it", on, 404, []string{lm(24 * time.Hour), date, "Cache-Control: no-cache"}, 0},
		{"off by default", &Policy{MaxTTL: time.Hour}, 200, []string{lm(24 * time.Hour), date}, 0},
		{"a default TTL wins", &Policy{Heuristic: true, DefaultTTL: time.Minute, MaxTTL: time.Hour}, 200, []string{lm(24 * time.Hour), date}, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ttl, store := Freshness("GET", tc.status, hdrs(tc.hdrs...), false, now, tc.p)
			if store != (tc.want > 0) || ttl != tc.want {
				t.Fatalf("Freshness = %v, %v; want %v", ttl, store, tc.want)
			}
		})
	}
}

// TestRFC9111Section5_2_2_3MustUnderstand is RFC 9111 5.2.2.3: with must-understand, a cache
// that implements the status's caching rules ignores no-store; one that does not must not
// store the response, whatever else it says.
func TestRFC9111Section5_2_2_3MustUnderstand(t *testing.T) {
	p := &Policy{MaxTTL: 365 * 24 * time.Hour}
	tests := []struct {
		name   string
		status int
		cc     string
		want   time.Duration
	}{
		{"understood status: no-store gives way", 200, "max-age=60, no-store, must-understand", time.Minute},
		{"understood redirect", 301, "must-understand, no-store, max-age=60", time.Minute},
		{"unknown status: not stored", 599, "max-age=60, no-store, must-understand", 0},
		{"unknown status, even without no-store", 299, "max-age=60, must-understand", 0},
		{"no-store alone still wins", 200, "max-age=60, no-store", 0},
		{"private still wins", 200, "max-age=60, private, must-understand", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ttl, store := Freshness("GET", tc.status, hdrs("Cache-Control: "+tc.cc), false, now, p)
			if store != (tc.want > 0) || ttl != tc.want {
				t.Fatalf("Freshness = %v, %v; want %v", ttl, store, tc.want)
			}
		})
	}
}

// TestRFC9111Section5_2_2_4NoCacheStoredStale is RFC 9111 5.2.2.4: a no-cache response may be
// stored but never used without revalidation, so it is stored stale (TTL 0) when it can be
// revalidated: a 200 with an ETag or Last-Modified.
func TestRFC9111Section5_2_2_4NoCacheStoredStale(t *testing.T) {
	p := &Policy{MinTTL: time.Hour, MaxTTL: 365 * 24 * time.Hour}
	tests := []struct {
		name   string
		status int
		hdrs   []string
		store  bool
	}{
		{"with an ETag", 200, []string{"Cache-Control: no-cache", `ETag: "a"`}, true},
		{"with Last-Modified", 200, []string{"Cache-Control: no-cache, max-age=60", "Last-Modified: " + httpDate(now.Add(-time.Hour))}, true},
		{"without a validator", 200, []string{"Cache-Control: no-cache"}, false},
		{"another status", 404, []string{"Cache-Control: no-cache", `ETag: "a"`}, false},
		{"no-store still wins", 200, []string{"Cache-Control: no-cache, no-store", `ETag: "a"`}, false},
		{"private still wins", 200, []string{"Cache-Control: no-cache, private", `ETag: "a"`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ttl, store := Freshness("GET", tc.status, hdrs(tc.hdrs...), false, now, p)
			if store != tc.store || ttl != 0 {
				t.Fatalf("Freshness = %v, %v; want 0, %v (MinTTL never applies)", ttl, store, tc.store)
			}
		})
	}
}
