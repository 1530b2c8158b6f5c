package hotmetrics

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

func exposition(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestSameAsClientGolang: the same observations give the same exposition as client_golang's
// own vectors, including from many goroutines at once.
func TestSameAsClientGolang(t *testing.T) {
	hopts := prometheus.HistogramOpts{Name: "h_seconds", Help: "h.", Buckets: []float64{0.001, 0.01, 0.1, 1}}
	copts := prometheus.CounterOpts{Name: "c_total", Help: "c."}
	ours, theirs := NewHistogramVec(hopts, []string{"a", "b"}), prometheus.NewHistogramVec(hopts, []string{"a", "b"})
	oc, tc := NewCounterVec(copts, []string{"a"}), prometheus.NewCounterVec(copts, []string{"a"})
	// Binary fractions: their sums are exact in any order, so the _sum lines compare too.
	values := []float64{0, 1.0 / 1024, 1.0 / 512, 1.0 / 16, 0.5, 1, 2, 64, 0.25, 1.0 / 2048}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			h, c := ours.With("x", string(rune('p'+g%2))), oc.With(string(rune('p'+g%3)))
			for i := range 1000 {
				v := values[i%len(values)]
				h.Observe(v)
				theirs.WithLabelValues("x", string(rune('p'+g%2))).Observe(v)
				c.Inc()
				tc.WithLabelValues(string(rune('p' + g%3))).Inc()
			}
		})
	}
	wg.Wait()
	if got, want := exposition(t, ours), exposition(t, theirs); got != want {
		t.Errorf("histograms:\n%s\nclient_golang:\n%s", got, want)
	}
	if got, want := exposition(t, oc), exposition(t, tc); got != want {
		t.Errorf("counters:\n%s\nclient_golang:\n%s", got, want)
	}
	if a, b := ours.With("x", "p"), ours.With("x", "p"); a != b {
		t.Error("With made a second series for the same labels")
	}
	if !strings.Contains(exposition(t, ours), `h_seconds_bucket{a="x",b="p",le="+Inf"} 4000`) {
		t.Error("the +Inf bucket does not count every observation")
	}
}

func BenchmarkHistogramObserveParallel(b *testing.B) {
	h := NewHistogramVec(prometheus.HistogramOpts{Name: "h", Help: "h."}, nil).With()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.003)
		}
	})
}

func BenchmarkClientGolangObserveParallel(b *testing.B) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h."})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.003)
		}
	})
}
