package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/demo"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
)

type serveFlags struct {
	config, origin, listen, admin, data, logLevel string
	tlsListen, tlsCert, tlsKey                    string
	fleet                                         fleetFlags
}

// newServeCmd is `verge serve`: with no flags, the embedded demo; with --origin, the quick
// start in front of one origin; with --config, a YAML file.
func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--config FILE | --origin URL] [--listen ADDR] [--admin ADDR] [--data DIR] [--tls-listen ADDR --tls-cert FILE --tls-key FILE] [--gossip ADDR] [--join HOST:PORT,...] [--insecure-gossip]",
		Short: "Run an edge node",
		Long: `Run an edge node.

With no flags it serves an embedded demo origin with example functions on 127.0.0.1:8080
(admin on 127.0.0.1:8081). --origin URL puts the node in front of one origin, caching as the
origin's headers say. --config FILE runs from a YAML file; SIGHUP reloads it, SIGTERM drains
in-flight requests and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML configuration file")
	fl.StringVar(&f.origin, "origin", "", "origin URL for the quick start (http://host:port)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "viewer address")
	fl.StringVar(&f.admin, "admin", "127.0.0.1:8081", "admin address (metrics, health, admin API)")
	fl.StringVar(&f.data, "data", "./data", "data directory")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.tlsListen, "tls-listen", "", "serve HTTPS to viewers on this address too (e.g. 0.0.0.0:443)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain for --tls-listen (the configuration's tls block may add more, chosen by SNI)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	f.fleet.register(fl)
	cmd.MarkFlagsMutuallyExclusive("config", "origin")
	return cmd
}

func serve(cmd *cobra.Command, f serveFlags) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// SIGHUP means reload from the moment the node says it serves: registered before that line,
	// so that a reload sent as soon as it appears does not find the default action (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	load, cleanup, err := configSource(cmd, f, log)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg, err := load()
	if err != nil {
		return err
	}
	tuneGC(cfg.Server, log)
	goFns := hooks.NewGoRegistry()
	if err := demo.RegisterFunctions(goFns); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	loader, err := newFunctionLoader(reg, log)
	if err != nil {
		return err
	}
	defer loader.Close()
	lc, err := wireLifecycle(cfg, loader.metrics, log) // refuses an exposed admin port without a token
	if err != nil {
		return err
	}
	defer lc.Close() // after srv.Shutdown: requests in flight finish on their functions
	loader.kvs = lc.kvs
	fl, err := wireCluster(cfg, f.fleet.apply(cmd, cfg.Cluster), lc, reg, log)
	if err != nil {
		return err
	}
	defer fl.Close() // runs before lc.Close: leave the fleet, then close the registry
	guard, err := adminGuard(cfg, lc, fl)
	if err != nil {
		return err
	}
	srv, err := edge.New(cfg, edge.Deps{
		Logger: log, AccessLog: accessLog(cfg.AccessLog), Registry: reg, GoFunctions: goFns, Loader: loader,
		Admin: fl.Handler, AdminGuard: guard, FunctionErrors: lc.act,
	})
	if err != nil {
		return err
	}
	// The registry's functions are attached before the first viewer is served: a node that
	// restarts must not answer a behavior's requests unfiltered while its workers start.
	if err := lc.Attach(srv); err != nil {
		return err
	}
	fl.Attach(srv)
	if err := srv.Start(); err != nil {
		return err
	}
	https := ""
	if a := srv.TLSAddr(); a != "" {
		https = " and https://" + a
	}
	gossip := ""
	if fl.c != nil {
		gossip = ", gossip " + fl.c.Addr()
	}
	// Scripts read this line (bench/run.sh): its start stays "verge: serving on http://ADDR".
	fmt.Fprintf(cmd.OutOrStdout(), "verge: serving on http://%s%s (admin http://%s%s), pid %d, version %s\n",
		srv.Addr(), https, srv.AdminAddr(), gossip, os.Getpid(), version())
	sdNotify("READY=1")

	for {
		select {
		case <-hup:
			sdNotify("RELOADING=1")
			next, err := load()
			if err == nil {
				err = srv.Reload(next)
			}
			if err != nil {
				log.Error("reload failed; the running configuration stays", "error", err.Error())
			}
			sdNotify("READY=1")
		case err := <-srv.Errors():
			return err
		case <-cmd.Context().Done():
			sdNotify("STOPPING=1")
			lc.StopStreams() // `fn logs --follow` streams would hold up the drain
			open := srv.OpenConnections()
			log.Info("draining", "timeout", cfg.Server.ShutdownTimeout.Std().String(), "open_connections", open)
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.Std())
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("drain: %w (%d viewer connections still open)", err, srv.OpenConnections())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "verge: stopped after draining %d viewer connections, pid %d\n", open, os.Getpid())
			return nil
		}
	}
}

// configSource returns how to (re)load the configuration the flags name, and what to clean
// up at exit (the demo origin).
func configSource(cmd *cobra.Command, f serveFlags, log *slog.Logger) (load func() (*edge.Config, error), cleanup func(), err error) {
	// The flags that stand for fields apply before the configuration is validated.
	overrides := func(c *edge.Config) {
		fl := cmd.Flags()
		if fl.Changed("listen") {
			c.Listen = f.listen
		}
		if fl.Changed("admin") {
			c.Admin = f.admin
		}
		if fl.Changed("data") {
			c.Data = f.data
		}
	}
	tls := edge.TLSFlags(f.tlsListen, f.tlsCert, f.tlsKey)
	switch {
	case f.config != "":
		return func() (*edge.Config, error) {
			return edge.LoadConfig(f.config, overrides, tls)
		}, func() {}, nil
	case f.origin != "":
		return func() (*edge.Config, error) {
			return edge.QuickStart(f.origin, f.listen, f.admin, f.data, tls)
		}, func() {}, nil
	default:
		o, err := demo.StartOrigin("127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		log.Info("demo origin started", "url", o.URL())
		return func() (*edge.Config, error) {
			return edge.ParseConfig("(embedded default)", demo.Config(o.URL()), overrides, tls)
		}, func() { o.Close() }, nil
	}
}

// accessLog opens the access log destination named in the configuration.
func accessLog(dest string) io.Writer {
	switch dest {
	case "off":
		return nil
	case "stderr":
		return os.Stderr
	case "stdout", "":
		return os.Stdout
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "verge: access log %s: %v; logging to stdout\n", dest, err)
		return os.Stdout
	}
	return f
}

// tuneGC applies server.gc_percent and server.memory_limit, unless the GOGC and GOMEMLIMIT
// environment variables say otherwise. They take effect at start-up only.
func tuneGC(s edge.ServerConfig, log *slog.Logger) {
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		debug.SetGCPercent(s.GCPercent)
		gogc = strconv.Itoa(s.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(s.MemoryLimit))
	}
	log.Debug("garbage collector", "gogc", gogc, "memory_limit", debug.SetMemoryLimit(-1))
}
