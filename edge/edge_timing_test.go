package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// newOriginTB starts an origin answering body with headers (name, value pairs) and returns its URL.
func newOriginTB(tb testing.TB, body string, headers ...string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		io.WriteString(w, body)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkHit measures the handler on a cache hit, without the network.
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			s, ctx := hitServer(b, size)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				s.handle(ctx)
			}
		})
	}
}
