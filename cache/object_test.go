package cache

import (
	"reflect"
	"testing"
	"time"
)

func TestInitialAge(t *testing.T) {
	resp := now                      // response_time
	req := now.Add(-2 * time.Second) // request_time: a 2s round trip
	tests := []struct {
		name string
		hdrs []string
		req  time.Time
		want time.Duration
	}{
		{name: "no Age, no Date, only the delay", req: req, want: 2 * time.Second},
		{name: "no Age, no Date, no request time", want: 0},
		{name: "apparent age from Date", req: req, hdrs: []string{"Date: " + httpDate(resp.Add(-10*time.Second))}, want: 10 * time.Second},
		{name: "Date in the future counts as zero", req: req, hdrs: []string{"Date: " + httpDate(resp.Add(time.Hour))}, want: 2 * time.Second},
		{name: "Age plus response delay", req: req, hdrs: []string{"Age: 30", "Date: " + httpDate(resp)}, want: 32 * time.Second},
		{name: "apparent age wins when larger", req: req, hdrs: []string{"Age: 3", "Date: " + httpDate(resp.Add(-time.Minute))}, want: time.Minute},
		{name: "corrected age wins when larger", req: req, hdrs: []string{"Age: 100", "Date: " + httpDate(resp.Add(-time.Minute))}, want: 102 * time.Second},
		{name: "invalid Age ignored", hdrs: []string{"Age: soon"}, want: 0},
		{name: "negative Age ignored", hdrs: []string{"Age: -5"}, want: 0},
		{name: "first Age wins", hdrs: []string{"Age: 7", "Age: 9"}, want: 7 * time.Second},
		{name: "joined Age values use the first", hdrs: []string{"Age: 7, 9"}, want: 7 * time.Second},
		{name: "huge Age saturates", hdrs: []string{"Age: 99999999999999"}, want: MaxDelta},
		{name: "invalid Date ignored", hdrs: []string{"Date: noon"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewObject("/", &Response{Status: 200, Headers: hdrs(tt.hdrs...), RequestTime: tt.req, ResponseTime: resp}, time.Hour)
			if o.InitialAge != tt.want {
				t.Fatalf("InitialAge = %v, want %v", o.InitialAge, tt.want)
			}
		})
	}
}

func TestAgeAndFresh(t *testing.T) {
	o := &Object{Stored: now, InitialAge: 10 * time.Second, TTL: time.Minute}
	tests := []struct {
		at        time.Time
		age       time.Duration
		fresh     bool
		remaining time.Duration
	}{
		{now, 10 * time.Second, true, 50 * time.Second},
		{now.Add(-time.Hour), 10 * time.Second, true, 50 * time.Second}, // clock skew: no negative residence
		{now.Add(49 * time.Second), 59 * time.Second, true, time.Second},
		{now.Add(50 * time.Second), time.Minute, false, 0},
		{now.Add(time.Hour), time.Hour + 10*time.Second, false, -time.Hour + 50*time.Second},
	}
	for _, tt := range tests {
		if got := o.Age(tt.at); got != tt.age {
			t.Errorf("Age(%v) = %v, want %v", tt.at, got, tt.age)
		}
		if got := o.Fresh(tt.at); got != tt.fresh {
			t.Errorf("Fresh(%v) = %v, want %v", tt.at, got, tt.fresh)
		}
		if got := o.Remaining(tt.at); got != tt.remaining {
			t.Errorf("Remaining(%v) = %v, want %v", tt.at, got, tt.remaining)
		}
	}
}

func TestNewObject(t *testing.T) {
	body := []byte("hello")
	resp := &Response{
		Status: 200,
		Headers: hdrs(
			"Content-Type: text/plain",
			"X-CamelCase: kept",
			"Connection: close, X-Hop",
			"X-Hop: dropped, named in Connection",
			"Keep-Alive: timeout=5",
			"Transfer-Encoding: chunked",
			"Proxy-Authenticate: Basic",
			"Age: 5",
			"Set-Cookie: id=1",
			"Vary: Accept-Encoding, USER-agent",
			"Vary: accept-encoding , Accept",
			"Surrogate-Key: home  product-1\tproduct-2",
			"Cache-Tag: product-1, blog,,",
			"Cache-Control: public, max-age=60",
		),
		Body:         body,
		ResponseTime: now,
	}
	o := NewObject("/a", resp, time.Minute)
	body[0] = 'J' // NewObject copied the body
	resp.Headers[0].Value = "changed"

	want := &Object{
		Path:   "/a",
		Status: 200,
		Headers: hdrs(
			"Content-Type: text/plain",
			"X-CamelCase: kept",
			"Vary: Accept-Encoding, USER-agent",
			"Vary: accept-encoding , Accept",
			"Cache-Control: public, max-age=60",
		),
		Body:       []byte("hello"),
		Stored:     now,
		InitialAge: 5 * time.Second,
		TTL:        time.Minute,
		Vary:       []string{"accept", "accept-encoding", "user-agent"},
		Tags:       []string{"home", "product-1", "product-2", "blog"},
		Public:     true,
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("NewObject =\n%+v\nwant\n%+v", o, want)
	}
	if v, ok := o.Header("content-TYPE"); !ok || v != "text/plain" {
		t.Errorf("Header(content-TYPE) = %q, %v", v, ok)
	}
	if _, ok := o.Header("Set-Cookie"); ok {
		t.Error("Set-Cookie stored")
	}
	if o.IsVaryMarker() {
		t.Error("a response is not a Vary marker")
	}
}

func TestNewObjectNoVaryNoTags(t *testing.T) {
	o := NewObject("/", &Response{Status: 204, ResponseTime: now}, time.Second)
	if o.Vary != nil || o.Tags != nil || o.Body != nil || len(o.Headers) != 0 {
		t.Fatalf("NewObject = %+v, want no Vary, Tags, Body or Headers", o)
	}
}

func TestObjectSize(t *testing.T) {
	small := &Object{Key: "k", Path: "/"}
	big := &Object{Key: "k", Path: "/", Body: make([]byte, 1000),
		Headers: []Header{{"A", "b"}}, Vary: []string{"x"}, Tags: []string{"t"}}
	if small.Size() < objectOverhead {
		t.Errorf("Size of an empty object = %d, want at least the overhead %d", small.Size(), objectOverhead)
	}
	if d := big.Size() - small.Size(); d < 1000+2+1+1 {
		t.Errorf("Size grows by %d for 1000 body bytes and three short strings", d)
	}
}

// A server's encoding of an object's header is counted in its cost, as told.
func TestSizeCountsWire(t *testing.T) {
	o := &Object{Status: 200, Headers: []Header{{Name: "ETag", Value: `"x"`}}, Body: []byte("hello")}
	plain := o.Size()
	o.Wire, o.WireSize = struct{}{}, 1000
	if got := o.Size(); got != plain+1000 {
		t.Fatalf("Size with a 1000-byte Wire = %d, want %d", got, plain+1000)
	}
}
