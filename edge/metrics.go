package edge

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hotmetrics"
)

// metrics are the node's Prometheus series. They register on the registry handed to New.
// The series updated on every request (requests, duration, invocations) are hotmetrics', so
// that the two cores do not fight over their counters.
type metrics struct {
	requests       *hotmetrics.CounterVec   // by cache outcome and status
	duration       *hotmetrics.HistogramVec // by cache outcome
	originDuration *prometheus.HistogramVec // by origin
	originErrors   *prometheus.CounterVec   // by origin and kind
	invocations    *hotmetrics.CounterVec   // by function, version, event, outcome

	// hot caches the counters and observers of the request path, so that counting a
	// request allocates nothing.
	hot      [numOutcomes][600]atomic.Pointer[hotmetrics.Counter]
	observer [numOutcomes]*hotmetrics.Histogram
}

func newMetrics(reg prometheus.Registerer, store *cache.Memory) (*metrics, error) {
	m := &metrics{
		requests: hotmetrics.NewCounterVec(prometheus.CounterOpts{
			Name: "verge_http_requests_total",
			Help: "Viewer requests answered, by cache outcome (hit, refresh_hit, stale, miss, pass, error, generated, function_error) and status code.",
		}, []string{"cache", "status"}),
		duration: hotmetrics.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verge_http_request_duration_seconds",
			Help:    "Time from reading a viewer request to handing its response to the server, by cache outcome.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"cache"}),
		originDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verge_origin_request_duration_seconds",
			Help:    "Origin fetch latency, from sending the request to having the whole response, by origin.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"origin"}),
		originErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verge_origin_errors_total",
			Help: "Failed origin fetches, by origin and kind (unreachable, timeout, reset, ...).",
		}, []string{"origin", "kind"}),
		invocations: hotmetrics.NewCounterVec(prometheus.CounterOpts{
			Name: "verge_function_invocations_total",
			Help: "Function invocations by function, version, event type and outcome (ok, error, timeout, validation, throttled).",
		}, []string{"function", "version", "event", "outcome"}),
	}
	objects := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "verge_cache_objects", Help: "Objects in the cache.",
	}, func() float64 { n, _ := store.Stats(); return float64(n) })
	bytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "verge_cache_bytes", Help: "Bytes held by cached objects (their cost against cache.max_size).",
	}, func() float64 { _, b := store.Stats(); return float64(b) })
	evictions := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "verge_cache_evictions_total", Help: "Objects the cache dropped by itself: to make room within cache.max_size, or past their freshness and keep period.",
	}, func() float64 { return float64(store.Evictions()) })
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.originDuration, m.originErrors, m.invocations, objects, bytes, evictions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for o := range numOutcomes {
		m.observer[o] = m.duration.With(o.label())
	}
	return m, nil
}

// request counts one answered request; it allocates only the first time a pair is seen.
func (m *metrics) request(o outcome, status int, seconds float64) {
	m.observer[o].Observe(seconds)
	if status < 0 || status >= 600 {
		status = 0
	}
	slot := &m.hot[o][status]
	if c := slot.Load(); c != nil {
		c.Inc()
		return
	}
	c := m.requests.With(o.label(), strconv.Itoa(status))
	slot.Store(c)
	c.Inc()
}
