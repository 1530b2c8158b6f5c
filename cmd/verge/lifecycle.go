package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/jsruntime"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// lifecycle is the function lifecycle of a node: the registry under the data directory,
// the activator that applies it to the edge server, and the admin API handler.
//
// Order of use in serve: wireLifecycle (before edge.New, which takes Handler as
// edge.Deps.Admin), edge.New, srv.Start, Attach(srv); at exit StopStreams, srv.Shutdown,
// then Close.
type lifecycle struct {
	// Handler is the admin API, for edge.Deps.Admin.
	Handler http.Handler
	// Tokens are the admin tokens, for the admin port's guard (adminGuard).
	Tokens []admin.Token

	reg *registry.Store
	act *deploy.Activator
	kvs *kvs.Stores // KeyValueStores under the data directory
	srv atomic.Pointer[edge.Server]
}

// lifecycleOptions are what tests change; serve uses the zero value.
type lifecycleOptions struct {
	// Tokens are the admin tokens; nil reads the configuration's admin_tokens and
	// VERGE_ADMIN_TOKENS (NAME=SECRET or SECRET, comma separated).
	Tokens []admin.Token
	// InProcess runs uploaded code in this process rather than in worker processes.
	InProcess bool
	// Worker configures worker processes (default: this binary's hidden `worker` verb).
	Worker jsruntime.WorkerOptions
}

// wireLifecycle opens the registry under cfg.Data and builds the activator and the admin
// API. It refuses a non-loopback admin address without a token (admin.CheckExposure).
// metrics is the node's jsruntime.Metrics (the function loader's), or nil.
func wireLifecycle(cfg *edge.Config, metrics *jsruntime.Metrics, log *slog.Logger) (*lifecycle, error) {
	return openLifecycle(cfg, metrics, log, lifecycleOptions{})
}

func openLifecycle(cfg *edge.Config, metrics *jsruntime.Metrics, log *slog.Logger, o lifecycleOptions) (*lifecycle, error) {
	if o.Tokens == nil {
		var err error
		if o.Tokens, err = admin.ParseTokens(strings.Join(cfg.AdminTokens, ",")); err != nil {
			return nil, fmt.Errorf("admin_tokens: %w", err)
		}
		env, err := admin.ParseTokens(os.Getenv("VERGE_ADMIN_TOKENS"))
		if err != nil {
			return nil, fmt.Errorf("VERGE_ADMIN_TOKENS: %w", err)
		}
		o.Tokens = append(o.Tokens, env...)
	}
	secrets := make([]string, len(o.Tokens))
	for i, t := range o.Tokens {
		secrets[i] = t.Secret
	}
	if err := admin.CheckExposure(cfg.Admin, secrets); err != nil {
		return nil, err
	}
	// One clock stamps the registry's and the KeyValueStores' writes, so a fleet orders
	// both the same way.
	clock := cluster.NewHLC(nil, 0)
	reg, err := registry.Open(registry.Options{Dir: cfg.Data, Clock: clock})
	if err != nil {
		return nil, err
	}
	stores, err := kvs.Open(cfg.Data, kvs.Options{Node: reg.Node(), Clock: clock})
	if err != nil {
		reg.Close()
		return nil, err
	}
	act, err := deploy.New(deploy.Options{Registry: reg, InProcess: o.InProcess, Worker: o.Worker, Metrics: metrics, Logger: log,
		KVS: stores, MaxVersions: cfg.Server.MaxFunctionVersions, MaxWorkers: cfg.Server.MaxFunctionWorkers,
		MaxWorkerIdle: time.Duration(cfg.Server.FunctionWorkerIdle)})
	if err != nil {
		stores.Close()
		reg.Close()
		return nil, err
	}
	l := &lifecycle{reg: reg, act: act, kvs: stores, Tokens: o.Tokens}
	l.Handler, err = admin.New(admin.Options{Registry: reg, Activator: act, Logger: log, Behaviors: l.behaviors, KVS: stores})
	if err != nil {
		act.Close()
		stores.Close()
		reg.Close()
		return nil, err
	}
	return l, nil
}

// behaviors lists the attached server's behaviors; nil (accept any) before Attach.
func (l *lifecycle) behaviors() []string {
	if s := l.srv.Load(); s != nil {
		return s.Behaviors()
	}
	return nil
}

// Attach applies the registry's associations to srv and keeps them applied.
func (l *lifecycle) Attach(srv *edge.Server) error {
	l.srv.Store(srv)
	return l.act.Start(srv)
}

// StopStreams ends the admin API's log streams (`fn logs --follow`), so that they do not
// hold up the admin server's graceful shutdown. Call it just before srv.Shutdown.
func (l *lifecycle) StopStreams() { l.act.StopFollowers() }

// Close stops the activator, closes every function and the registry. Call it after the
// server has shut down.
func (l *lifecycle) Close() error {
	return errors.Join(l.act.Close(), l.reg.Close(), l.kvs.Close())
}
