package edge

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vergecdn/verge/loopback"
)

// adminHandler serves /metrics, /healthz and /readyz, and hands everything else to Deps.Admin,
// all of it behind Deps.AdminGuard.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	// healthz: the process is alive and answering.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	// readyz: the node takes traffic; 503 while it drains for shutdown.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	// The Go profiler, for operators chasing a slow node: on a loopback admin address only
	// (behind the guard's tokens too), since a profile costs the node CPU.
	if loopback.Addr(s.cfg().Admin) {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	if s.deps.Admin != nil {
		mux.Handle("/", s.deps.Admin)
	}
	if s.deps.AdminGuard != nil {
		return s.deps.AdminGuard(mux)
	}
	return mux
}
