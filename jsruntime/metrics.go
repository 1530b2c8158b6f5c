package jsruntime

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/hotmetrics"
)

// Metrics are the function runtime's Prometheus series. Create one per registry with
// NewMetrics and pass it in Options.Metrics; it is safe for concurrent use.
//
// Invocations are counted by the edge (verge_function_invocations_total), which sees every
// function, Go ones included, and the outcome of validating what each returned.
//
//	verge_function_duration_seconds{function,version,event}            histogram of Invoke wall time
//	verge_function_cold_starts_total{function,version}                 runtimes created on demand
//	verge_function_runtimes{function,version,state}                    state: in_use, idle (read at scrape time)
//	verge_function_worker_reclaims_total                               worker processes ended for room (Workers)
//	verge_function_worker_idle_ends_total                              worker processes ended after going without calls (Workers)
//	verge_function_workers                                             worker processes running (CountWorkers; read at scrape time)
type Metrics struct {
	duration *hotmetrics.HistogramVec // updated on every invocation: sharded
	cold     *prometheus.CounterVec
	poolDesc *prometheus.Desc
	reclaims prometheus.Counter
	idleEnds prometheus.Counter
	workers  prometheus.GaugeFunc
	counted  atomic.Pointer[Workers] // whose processes workers counts

	mu   sync.Mutex
	live map[*Function]struct{}
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: hotmetrics.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verge_function_duration_seconds",
			Help:    "Wall time of function invocations.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"function", "version", "event"}),
		cold: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verge_function_cold_starts_total",
			Help: "Runtimes created on demand because no warm one was idle.",
		}, []string{"function", "version"}),
		poolDesc: prometheus.NewDesc("verge_function_runtimes", "Warm runtimes of a function version, in use or idle.",
			[]string{"function", "version", "state"}, nil),
		reclaims: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verge_function_worker_reclaims_total",
			Help: "Idle worker processes ended to keep the node under its cap on them; the function's next call starts one again.",
		}),
		idleEnds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verge_function_worker_idle_ends_total",
			Help: "Worker processes ended after going without a call for server.function_worker_idle; the function's next call starts one again.",
		}),
		live: map[*Function]struct{}{},
	}
	m.workers = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "verge_function_workers",
		Help: "Worker processes running for functions, the spare not counted (compare server.max_function_workers, which a burst of busy functions may exceed up to 4 times).",
	}, func() float64 {
		if ws := m.counted.Load(); ws != nil {
			return float64(ws.Running())
		}
		return 0
	})
	for _, c := range []prometheus.Collector{m.duration, m.cold, poolCollector{m}, m.reclaims, m.idleEnds, m.workers} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("jsruntime: registering metrics"), err)
		}
	}
	return m, nil
}

// observe records one invocation's duration. The series of each stage is looked up once per
// Function (a label lookup costs more than the observation).
func (m *Metrics) observe(f *Function, s hooks.Stage, d time.Duration) {
	if int(s) >= len(f.durations) {
		return
	}
	slot := &f.durations[s]
	o := slot.Load()
	if o == nil {
		o = m.duration.With(f.opts.Name, f.opts.Version, s.String())
		slot.Store(o)
	}
	o.Observe(d.Seconds())
}

// CountWorkers makes verge_function_workers count ws's processes (a node has one Workers).
func (m *Metrics) CountWorkers(ws *Workers) { m.counted.Store(ws) }

func (m *Metrics) coldStart(f *Function) { m.cold.WithLabelValues(f.opts.Name, f.opts.Version).Inc() }

func (m *Metrics) track(f *Function) {
	m.mu.Lock()
	m.live[f] = struct{}{}
	m.mu.Unlock()
}

func (m *Metrics) untrack(f *Function) {
	m.mu.Lock()
	delete(m.live, f)
	m.mu.Unlock()
}

// poolCollector reports pool sizes of the live functions at scrape time, summed over the
// functions that share a name and version: while one drains after a reload or a deploy built it
// again, a scrape must not carry two series with the same labels (the registry refuses it).
type poolCollector struct{ m *Metrics }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.poolDesc }

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	fs := make([]*Function, 0, len(c.m.live))
	for f := range c.m.live {
		fs = append(fs, f)
	}
	c.m.mu.Unlock()
	type labels struct{ name, version string }
	sums := make(map[labels][2]int, len(fs))
	for _, f := range fs {
		inUse, idle := f.Stats()
		k := labels{f.opts.Name, f.opts.Version}
		s := sums[k]
		sums[k] = [2]int{s[0] + inUse, s[1] + idle}
	}
	for k, s := range sums {
		ch <- prometheus.MustNewConstMetric(c.m.poolDesc, prometheus.GaugeValue, float64(s[0]), k.name, k.version, "in_use")
		ch <- prometheus.MustNewConstMetric(c.m.poolDesc, prometheus.GaugeValue, float64(s[1]), k.name, k.version, "idle")
	}
}
