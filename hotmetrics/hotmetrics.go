// Package hotmetrics provides Prometheus counters and histograms for series updated on every
// request. client_golang's keep one set of atomic counters per series, and when both cores of
// a node update the same series at once, those cache lines bounce between them: the request
// counter and the two duration histograms of a cache hit with one function cost Verge about 5%
// of its throughput (bench/run.sh js: 89k req/s with them, 92-97k without). Here every series
// spreads its counts over a few shards, each on cache lines of its own; an update picks a shard
// at random (math/rand/v2, which is per-thread and lock-free), and a scrape adds the shards up.
//
// The exposition is client_golang's own (const metrics), so scrapers see ordinary counters
// and histograms. Vectors are safe for concurrent use; With is the slow path (a lookup by
// label values, creating the series on first use): keep what it returns.
package hotmetrics

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// shards is the number of shards per series: a few times the cores a node usually has.
const shards = 8

// cell is one shard's counter, alone on its cache line.
type cell struct {
	n atomic.Uint64
	_ [56]byte
}

// vec is the label-keyed set of series behind CounterVec and HistogramVec.
type vec[S any] struct {
	desc   *prometheus.Desc
	labels int
	make   func(values []string) *S
	mu     sync.RWMutex
	series map[string]*S
}

func (v *vec[S]) with(values []string) *S {
	if len(values) != v.labels {
		panic("hotmetrics: wrong number of label values")
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	s := v.series[key]
	v.mu.RUnlock()
	if s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s = v.series[key]; s == nil {
		s = v.make(append([]string(nil), values...))
		v.series[key] = s
	}
	return s
}

func (v *vec[S]) each(fn func(*S)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, s := range v.series {
		fn(s)
	}
}

// CounterVec is a vector of counters, by label values.
type CounterVec struct{ v vec[Counter] }

// Counter is one series of a CounterVec.
type Counter struct {
	labels []string
	cells  [shards]cell
}

var _ prometheus.Collector = (*CounterVec)(nil)

// NewCounterVec makes a counter vector; register it as any collector.
func NewCounterVec(opts prometheus.CounterOpts, labels []string) *CounterVec {
	c := &CounterVec{}
	c.v = vec[Counter]{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, labels, opts.ConstLabels),
		labels: len(labels),
		make:   func(values []string) *Counter { return &Counter{labels: values} },
		series: map[string]*Counter{},
	}
	return c
}

// With returns the series of these label values, creating it at zero.
func (c *CounterVec) With(values ...string) *Counter { return c.v.with(values) }

// Inc adds one.
func (c *Counter) Inc() { c.cells[rand.Uint32()%shards].n.Add(1) }

// Value is the current count.
func (c *Counter) Value() uint64 {
	var n uint64
	for i := range c.cells {
		n += c.cells[i].n.Load()
	}
	return n
}

func (c *CounterVec) Describe(ch chan<- *prometheus.Desc) { ch <- c.v.desc }

func (c *CounterVec) Collect(ch chan<- prometheus.Metric) {
	c.v.each(func(s *Counter) {
		ch <- prometheus.MustNewConstMetric(c.v.desc, prometheus.CounterValue, float64(s.Value()), s.labels...)
	})
}

// HistogramVec is a vector of histograms, by label values.
type HistogramVec struct {
	v       vec[Histogram]
	buckets []float64 // upper bounds, sorted, without +Inf
}

// Histogram is one series of a HistogramVec.
type Histogram struct {
	labels  []string
	buckets []float64
	shards  [shards]histShard
}

// histShard holds one shard's counts: counts[i] observations in bucket i (the last is +Inf),
// and the sum's float64 bits. Each shard's counts are a separate allocation, and the sum is
// on a line of its own.
type histShard struct {
	counts []atomic.Uint64
	sum    cell
}

var _ prometheus.Collector = (*HistogramVec)(nil)

// NewHistogramVec makes a histogram vector with opts.Buckets (client_golang's defaults if
// none); register it as any collector.
func NewHistogramVec(opts prometheus.HistogramOpts, labels []string) *HistogramVec {
	b := append([]float64(nil), opts.Buckets...)
	if len(b) == 0 {
		b = append(b, prometheus.DefBuckets...)
	}
	sort.Float64s(b)
	if n := len(b); n > 0 && math.IsInf(b[n-1], +1) {
		b = b[:n-1]
	}
	h := &HistogramVec{buckets: b}
	h.v = vec[Histogram]{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, labels, opts.ConstLabels),
		labels: len(labels),
		make: func(values []string) *Histogram {
			s := &Histogram{labels: values, buckets: b}
			for i := range s.shards {
				s.shards[i].counts = make([]atomic.Uint64, len(b)+1)
			}
			return s
		},
		series: map[string]*Histogram{},
	}
	return h
}

// With returns the series of these label values, creating it empty.
func (h *HistogramVec) With(values ...string) *Histogram { return h.v.with(values) }

// Observe records x.
func (h *Histogram) Observe(x float64) {
	s := &h.shards[rand.Uint32()%shards]
	s.counts[sort.SearchFloat64s(h.buckets, x)].Add(1)
	for {
		old := s.sum.n.Load()
		if s.sum.n.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+x)) {
			break
		}
	}
}

// snapshot adds the shards up: the count, the sum and the cumulative bucket counts.
func (h *Histogram) snapshot() (count uint64, sum float64, cumulative map[float64]uint64) {
	per := make([]uint64, len(h.buckets)+1)
	for i := range h.shards {
		s := &h.shards[i]
		for j := range s.counts {
			per[j] += s.counts[j].Load()
		}
		sum += math.Float64frombits(s.sum.n.Load())
	}
	cumulative = make(map[float64]uint64, len(h.buckets))
	for i, ub := range h.buckets {
		count += per[i]
		cumulative[ub] = count
	}
	return count + per[len(h.buckets)], sum, cumulative
}

func (h *HistogramVec) Describe(ch chan<- *prometheus.Desc) { ch <- h.v.desc }

func (h *HistogramVec) Collect(ch chan<- prometheus.Metric) {
	h.v.each(func(s *Histogram) {
		count, sum, buckets := s.snapshot()
		ch <- prometheus.MustNewConstHistogram(h.v.desc, count, sum, buckets, s.labels...)
	})
}
