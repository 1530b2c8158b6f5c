// Package edge is Verge's data plane: the viewer-facing HTTP server, the request pipeline of
// docs/architecture.md (behaviors, the four hook points, the cache, origin fetches), its configuration,
// and the admin endpoints for metrics and health.
package edge

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"golang.org/x/sync/singleflight"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/conntimeout"
	"github.com/vergecdn/verge/hooks"
)

// Deps are what a Server is given rather than finding for itself, so that tests and several
// nodes can share a process.
type Deps struct {
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// AccessLog receives one JSON line per request; nil turns access logs off.
	AccessLog io.Writer
	// Registry receives the node's Prometheus metrics. Default: a new registry.
	Registry *prometheus.Registry
	// GoFunctions are the Go functions configuration may attach. Default: none.
	GoFunctions *hooks.GoRegistry
	// Loader loads the configuration's `functions:` entries. nil: such entries are an error.
	Loader FunctionLoader
	// Admin serves extra admin routes (the admin API) beside /metrics, /healthz and /readyz.
	Admin http.Handler
	// AdminGuard, if set, wraps the admin port's whole handler (every route, these included),
	// so that nothing on the port can be reached around it: the admin package's Guard, which
	// lets /healthz and /readyz through. nil: no guard (tests and embedders on loopback).
	AdminGuard func(http.Handler) http.Handler
	// FunctionErrors, if set, is told of every failed invocation at any stage, for `verge fn
	// logs`. Default: failures go to Logger only.
	FunctionErrors FunctionErrorSink
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// FunctionErrorSink receives function failures: an error or crash, a timeout, a throttle, or
// a result that failed CloudFront's validation (which only the edge sees). FunctionFailed is
// called on the request's goroutine: it must not block, and must not retain err's event.
type FunctionErrorSink interface {
	FunctionFailed(function, version, requestID string, stage hooks.Stage, kind hooks.Kind, err error)
}

// Server is one edge node's data plane. Start it, Reload it with new configuration, Shutdown
// it. Its methods are safe for concurrent use.
type Server struct {
	deps      Deps
	log       *slog.Logger
	access    *slog.Logger
	accessBuf *logBuffer
	now       func() time.Time
	realClock bool // now is time.Now: the request time can come from fasthttp
	store     *cache.Memory
	metrics   *metrics
	xcache    [numOutcomes][]byte
	ips       ipTexts // viewer addresses as text

	config   atomic.Pointer[Config]
	pipe     atomic.Pointer[pipeline] // what requests use: base with the attachments applied
	reload   sync.Mutex               // serializes Reload and SetAttachments; guards base, attached
	base     *pipeline                // built from the configuration; owns the origins
	attached Attachments
	flight   singleflight.Group // collapses concurrent misses by cache key
	passes   passMemo           // keys not to collapse: their last answer was not storable

	// revalidating holds the keys being revalidated in the background (stale-while-revalidate).
	revalidating sync.Map

	viewer    *fasthttp.Server
	tls       *viewerTLS // nil without tls.listen
	admin     *http.Server
	ln, adLn  net.Listener
	tlsLn     net.Listener
	tlsPort   string // of tlsLn, for redirects to HTTPS
	draining  atomic.Bool
	idPrefix  string
	idCounter atomic.Uint64
	served    chan error
	undated   *fasthttp.ResponseHeader // see date.go
}

// New builds a node from cfg. It opens no socket until Start.
func New(cfg *Config, deps Deps) (*Server, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.GoFunctions == nil {
		deps.GoFunctions = hooks.NewGoRegistry()
	}
	realClock := deps.Now == nil
	if realClock {
		deps.Now = time.Now
	}
	s := &Server{deps: deps, log: deps.Logger, now: deps.Now, realClock: realClock, served: make(chan error, 2)}
	var err error
	if s.undated, err = undatedHeader(); err != nil {
		return nil, err
	}
	s.store, err = cache.NewMemory(cache.MemoryConfig{
		MaxBytes: int64(cfg.Cache.MaxSize), MaxObjectBytes: int64(cfg.Cache.MaxObjectSize), Now: deps.Now,
		KeepStale: cfg.Cache.KeepStale.Std(),
	})
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if s.metrics, err = newMetrics(deps.Registry, s.store); err != nil {
		s.store.Close()
		return nil, fmt.Errorf("edge: metrics: %w", err)
	}
	if cfg.TLS.Listen != "" {
		if s.tls, err = newViewerTLS(cfg.TLS); err != nil {
			s.store.Close()
			return nil, err
		}
	}
	p, err := buildPipeline(cfg, deps.GoFunctions, deps.Loader)
	if err != nil {
		s.keepFunctions(nil)
		s.store.Close()
		return nil, err
	}
	if deps.AccessLog != nil {
		s.accessBuf = newLogBuffer(deps.AccessLog)
		s.access = slog.New(slog.NewJSONHandler(s.accessBuf, nil))
	}
	s.config.Store(cfg)
	s.base = p
	s.pipe.Store(p)
	for o := range numOutcomes {
		s.xcache[o] = []byte(o.word() + " from " + cfg.Name)
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	s.idPrefix = base64.RawURLEncoding.EncodeToString(id[:])
	// No ReadTimeout, WriteTimeout or IdleTimeout: conntimeout enforces them, for less than
	// fasthttp's per-request deadlines cost (the package says why).
	s.viewer = &fasthttp.Server{
		Handler:                       s.handle,
		ErrorHandler:                  s.refuseUnreadable,
		NoDefaultServerHeader:         true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: true,
		CloseOnShutdown:               true,
		MaxRequestBodySize:            int(cfg.Server.MaxRequestBodySize),
		ReadBufferSize:                viewerReadBuffer,
		Logger:                        fasthttpLogger{s.log},
	}
	conntimeout.Enforce(s.viewer, conntimeout.Timeouts{
		Read:  cfg.Server.ReadTimeout.Std(),
		Write: cfg.Server.WriteTimeout.Std(),
		Idle:  cfg.Server.IdleTimeout.Std(),
	})
	s.admin = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// viewerReadBuffer bounds a viewer request's line and header fields together: a longer head
// gets a 431 (refuseUnreadable).
const viewerReadBuffer = 16 << 10

// Start binds the viewer and admin addresses and serves them in the background.
func (s *Server) Start() error {
	cfg := s.cfg()
	var err error
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("edge: listen %s: %w", cfg.Listen, err)
	}
	if s.adLn, err = net.Listen("tcp", cfg.Admin); err != nil {
		s.ln.Close()
		return fmt.Errorf("edge: admin listen %s: %w", cfg.Admin, err)
	}
	if s.tls != nil {
		ln, err := net.Listen("tcp", cfg.TLS.Listen)
		if err != nil {
			s.ln.Close()
			s.adLn.Close()
			return fmt.Errorf("edge: tls listen %s: %w", cfg.TLS.Listen, err)
		}
		s.tlsLn = tls.NewListener(ln, s.tls.conf)
		_, s.tlsPort, _ = net.SplitHostPort(ln.Addr().String())
		go func() { s.served <- s.viewer.Serve(s.tlsLn) }()
	}
	go func() { s.served <- s.viewer.Serve(s.ln) }()
	go func() {
		if err := s.admin.Serve(s.adLn); !errors.Is(err, http.ErrServerClosed) {
			s.served <- err
		}
	}()
	s.log.Info("serving", "listen", s.ln.Addr().String(), "tls_listen", s.TLSAddr(), "admin", s.adLn.Addr().String())
	return nil
}

// Addr is the bound viewer address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// TLSAddr is the bound HTTPS address, "" without one.
func (s *Server) TLSAddr() string {
	if s.tlsLn == nil {
		return ""
	}
	return s.tlsLn.Addr().String()
}

// AdminAddr is the bound admin address.
func (s *Server) AdminAddr() string { return s.adLn.Addr().String() }

// OpenConnections is the number of viewer connections open now, HTTP and HTTPS.
func (s *Server) OpenConnections() int { return int(s.viewer.GetOpenConnectionsCount()) }

// Store is the node's cache, for purges.
func (s *Server) Store() cache.Store { return s.store }

// Errors delivers a serving error should a listener fail; it is never closed.
func (s *Server) Errors() <-chan error { return s.served }

func (s *Server) cfg() *Config { return s.config.Load() }

// Reload builds a pipeline from cfg and swaps it in: new requests use it, requests in flight
// finish on the old one. TLS certificates are read again (new connections get them). On error
// the running configuration and certificates stay. Addresses, the data directory and cache
// sizes need a restart; a change to them is logged and ignored.
func (s *Server) Reload(cfg *Config) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	old := s.cfg()
	if restartOnly(old) != restartOnly(cfg) {
		s.log.Warn("reload: listen, admin, data, name, cache, server, access_log, admin_tokens, admin_hosts, metrics_auth, cluster, tls.listen and tls.min_version change only on restart; keeping the running ones")
		cfg.Listen, cfg.Admin, cfg.Data, cfg.Cache, cfg.Name = old.Listen, old.Admin, old.Data, old.Cache, old.Name
		cfg.Server, cfg.AccessLog, cfg.AdminTokens, cfg.Cluster = old.Server, old.AccessLog, old.AdminTokens, old.Cluster
		cfg.AdminHosts, cfg.MetricsAuth = old.AdminHosts, old.MetricsAuth
		cfg.TLS.Listen, cfg.TLS.MinVersion = old.TLS.Listen, old.TLS.MinVersion
	}
	p, err := buildPipeline(cfg, s.deps.GoFunctions, s.deps.Loader)
	if err != nil {
		s.keepFunctions(s.base)
		return err
	}
	if s.tls != nil {
		if err := s.tls.reload(cfg.TLS); err != nil {
			p.close()
			s.keepFunctions(s.base)
			return err
		}
	}
	s.config.Store(cfg)
	prev := s.base
	s.base = p
	s.pipe.Store(p.withAttachments(s.attached))
	prev.close()
	s.keepFunctions(p)
	s.log.Info("configuration reloaded", "file", cfg.file, "behaviors", len(p.behaviors))
	return nil
}

// keepFunctions tells the loader which of its functions the serving pipeline p uses (none when
// p is nil): it closes the others, those of a pipeline replaced or of a build that failed.
func (s *Server) keepFunctions(p *pipeline) {
	if s.deps.Loader == nil {
		return
	}
	var inUse []Loaded
	if p != nil {
		inUse = p.loaded
	}
	s.deps.Loader.Keep(inUse)
}

// restartOnly renders the settings a reload cannot change, for comparison.
func restartOnly(c *Config) string {
	return fmt.Sprintf("%q %q %q %q %+v %+v %q %q %+v %q %v %q %q", c.Listen, c.Admin, c.Data, c.Name, c.Cache, c.Server, c.AccessLog,
		c.AdminTokens, c.Cluster, c.AdminHosts, c.MetricsAuth, c.TLS.Listen, c.TLS.MinVersion)
}

// Shutdown stops accepting requests, lets those in flight finish (until ctx is done), and
// releases everything. /readyz answers 503 from the start of Shutdown. If ctx ends before the
// requests in flight do, the cache and origin clients are left open for them (the process is
// about to exit anyway) and ctx's error is returned. Calls after the first return nil.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.draining.CompareAndSwap(false, true) {
		return nil
	}
	var err error
	if s.ln != nil {
		err = s.viewer.ShutdownWithContext(ctx)
		// fasthttp closes only listeners its Serve has registered: one that has not started
		// yet would otherwise accept forever.
		_ = s.ln.Close()
		if s.tlsLn != nil {
			_ = s.tlsLn.Close()
		}
		if aerr := s.admin.Shutdown(ctx); err == nil {
			err = aerr
		}
	}
	if err != nil {
		return err
	}
	s.reload.Lock()
	s.base.close()
	s.reload.Unlock()
	s.store.Close()
	s.closeAccessLog()
	return nil
}

// requestID returns a unique, opaque id for a request's events and logs.
func (s *Server) requestID() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.idCounter.Add(1))
	return s.idPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// fasthttpLogger sends fasthttp's own messages to slog.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn("http server: " + fmt.Sprintf(format, args...))
}

func (s *Server) closeAccessLog() {
	if s.accessBuf != nil {
		s.accessBuf.Close()
	}
}
