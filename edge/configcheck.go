package edge

import (
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vergecdn/verge/hooks"
)

// fieldErr reports a problem with one field, written under key in mapping n:
// "FILE:LINE: FIELD: problem".
func (c *Config) fieldErr(n *yaml.Node, key, field, format string, args ...any) error {
	return c.lineErr(keyLine(n, key), field, format, args...)
}

// lineErr reports a problem with one field written at line (0: unknown).
func (c *Config) lineErr(line int, field, format string, args ...any) error {
	loc := c.file
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", c.file, line)
	}
	if loc == "" {
		loc = "config"
	}
	return fmt.Errorf("config: %s: %s: %s", loc, field, fmt.Sprintf(format, args...))
}

// minFunctionWorkerIdle is the shortest server.function_worker_idle accepted.
const minFunctionWorkerIdle = 2 * time.Second

// validate fills in defaults and refuses a configuration the node could not run.
func (c *Config) validate() error {
	c.applyDefaults()
	for _, a := range []struct{ field, addr string }{{"listen", c.Listen}, {"admin", c.Admin}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return c.fieldErr(nil, "", a.field, "address %q: want HOST:PORT", a.addr)
		}
	}
	if c.AccessLog == "" {
		c.AccessLog = "stdout"
	}
	if d := c.Server.FunctionWorkerIdle.Std(); d < minFunctionWorkerIdle {
		return c.fieldErr(nil, "", "server.function_worker_idle", "%v: want at least %v (a shorter one ends and restarts the worker of a function called every few seconds)", d, minFunctionWorkerIdle)
	}
	origins := map[string]bool{}
	for i := range c.Origins {
		o := &c.Origins[i]
		field := fmt.Sprintf("origins[%d]", i)
		if o.ID == "" {
			return c.fieldErr(o.node, "id", field+".id", "required")
		}
		if origins[o.ID] {
			return c.fieldErr(o.node, "id", field+".id", "duplicate origin id %q", o.ID)
		}
		origins[o.ID] = true
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.fieldErr(o.node, "url", field+".url", "%q: want http://host[:port][/path] or https://…", o.URL)
		}
		if o.MaxConns < 0 {
			return c.fieldErr(o.node, "max_conns", field+".max_conns", "must not be negative")
		}
	}
	functions := map[string]bool{}
	for i := range c.Functions {
		f := &c.Functions[i]
		field := fmt.Sprintf("functions[%d]", i)
		switch {
		case f.Name == "":
			return c.fieldErr(f.node, "name", field+".name", "required")
		case functions[f.Name]:
			return c.fieldErr(f.node, "name", field+".name", "duplicate function name %q", f.Name)
		case (f.File == "") == (f.Source == ""):
			return c.fieldErr(f.node, "file", field+".file", "exactly one of file and source is required")
		}
		rt, err := hooks.CanonicalRuntime(f.Runtime)
		if err != nil {
			return c.fieldErr(f.node, "runtime", field+".runtime", "%v", err)
		}
		f.Runtime = rt
		if f.KVS != "" && rt != hooks.RuntimeCloudFrontJS2 {
			return c.fieldErr(f.node, "kvs", field+".kvs", "a KeyValueStore needs runtime %s, not %s", hooks.RuntimeCloudFrontJS2, rt)
		}
		switch f.Isolation {
		case "":
			f.Isolation = "process"
		case "in-process", "process":
		default:
			return c.fieldErr(f.node, "isolation", field+".isolation", "unknown isolation %q (want in-process or process)", f.Isolation)
		}
		functions[f.Name] = true
	}
	if len(c.Behaviors) == 0 {
		return c.fieldErr(nil, "", "behaviors", "at least the default behavior (path \"*\") is required")
	}
	for i := range c.Behaviors {
		if err := c.validateBehavior(i, origins); err != nil {
			return err
		}
	}
	if last := c.Behaviors[len(c.Behaviors)-1]; last.Path != "*" || len(last.Hosts) > 0 {
		return c.fieldErr(last.node, "path", fmt.Sprintf("behaviors[%d].path", len(c.Behaviors)-1),
			"the last behavior must be the default one: path \"*\" and no hosts")
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	return c.validateTLS()
}

func (c *Config) validateBehavior(i int, origins map[string]bool) error {
	b := &c.Behaviors[i]
	field := fmt.Sprintf("behaviors[%d]", i)
	if b.Path == "" {
		return c.fieldErr(b.node, "path", field+".path", "required (use \"*\" for the default behavior)")
	}
	if len(b.Path) > 255 {
		return c.fieldErr(b.node, "path", field+".path", "longer than 255 characters")
	}
	for j := range i {
		if c.Behaviors[j].Path == b.Path && strings.Join(c.Behaviors[j].Hosts, ",") == strings.Join(b.Hosts, ",") {
			return c.fieldErr(b.node, "path", field+".path", "pattern %q repeats behaviors[%d]", b.Path, j)
		}
	}
	if b.Origin == "" {
		if len(c.Origins) != 1 {
			return c.fieldErr(b.node, "origin", field+".origin", "required when there is not exactly one origin")
		}
		b.Origin = c.Origins[0].ID
	}
	if !origins[b.Origin] {
		return c.fieldErr(b.node, "origin", field+".origin", "unknown origin %q", b.Origin)
	}
	p := &b.Cache
	if p.MaxTTL == nil {
		d := Duration(defaultMaxTTL)
		p.MaxTTL = &d
	}
	if p.MinTTL > *p.MaxTTL {
		return c.lineErr(keyLine(b.node, "cache", "min_ttl"), field+".cache.min_ttl", "min_ttl %v is above max_ttl %v", p.MinTTL.Std(), p.MaxTTL.Std())
	}
	if p.DefaultTTL < p.MinTTL || p.DefaultTTL > *p.MaxTTL {
		return c.lineErr(keyLine(b.node, "cache", "default_ttl"), field+".cache.default_ttl", "default_ttl %v must lie within [min_ttl %v, max_ttl %v]", p.DefaultTTL.Std(), p.MinTTL.Std(), p.MaxTTL.Std())
	}
	for event, a := range b.Functions {
		f := fmt.Sprintf("%s.functions.%s", field, event)
		if _, err := hooks.ParseStage(event); err != nil {
			msg := "unknown event type (want viewer-request, origin-request, origin-response or viewer-response)"
			names := make([]string, len(hooks.Stages))
			for i, st := range hooks.Stages {
				names[i] = st.String()
			}
			if s := closest(event, names); s != "" {
				msg = fmt.Sprintf("unknown event type (did you mean %s?)", s)
			}
			return c.lineErr(keyLine(b.node, "functions", event), f, "%s", msg)
		}
		if a.Function == "" {
			return c.fieldErr(a.node, "function", f, "function name required")
		}
	}
	return nil
}

func (c *Config) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Listen, "127.0.0.1:8080")
	def(&c.Admin, "127.0.0.1:8081")
	def(&c.Data, "./data")
	def(&c.Name, "verge")
	if c.Cache.MaxSize <= 0 {
		c.Cache.MaxSize = 256 << 20
	}
	if c.Cache.MaxObjectSize <= 0 {
		c.Cache.MaxObjectSize = 32 << 20
	}
	if c.Cache.KeepStale <= 0 {
		c.Cache.KeepStale = Duration(time.Hour)
	}
	s := &c.Server
	defDur := func(d *Duration, v time.Duration) {
		if *d <= 0 {
			*d = Duration(v)
		}
	}
	defDur(&s.ReadTimeout, 30*time.Second)
	defDur(&s.WriteTimeout, 60*time.Second)
	defDur(&s.IdleTimeout, 60*time.Second)
	defDur(&s.ShutdownTimeout, 30*time.Second)
	if s.MaxRequestBodySize <= 0 {
		s.MaxRequestBodySize = 16 << 20
	}
	if s.GCPercent == 0 {
		s.GCPercent = 400
	}
	if s.MemoryLimit <= 0 {
		s.MemoryLimit = 2*c.Cache.MaxSize + 512<<20
	}
	if s.MaxFunctionVersions <= 0 {
		s.MaxFunctionVersions = 1024
	}
	if s.MaxFunctionWorkers <= 0 {
		s.MaxFunctionWorkers = 8 * runtime.GOMAXPROCS(0)
	}
	defDur(&s.FunctionWorkerIdle, 15*time.Minute)
}

// QuickStart is the configuration of `verge serve --origin URL`: one origin, one default
// behavior that caches as the origin's headers say (min TTL 0, default TTL 0, max TTL one year)
// as a plain HTTP cache does (nginx's and Varnish's default key): the key is host, path and
// the whole query string; every header reaches the origin, whose Vary says which ones matter;
// a request with Cookie or Authorization goes to the origin untouched and bypasses the cache
// unless the answer says public or s-maxage.
//
// Each adjust changes the configuration before it is validated, as for ParseConfig.
func QuickStart(originURL, listen, admin, data string, adjust ...func(*Config)) (*Config, error) {
	c := &Config{
		Listen: listen, Admin: admin, Data: data,
		Origins: []OriginConfig{{ID: "origin", URL: originURL}},
		Behaviors: []BehaviorConfig{{Path: "*", Origin: "origin",
			Cache:         CachePolicyConfig{QueryStrings: QueryStringsConfig{Mode: "all"}, HeuristicFreshness: true},
			OriginRequest: OriginRequestConfig{Headers: NameList{All: true}, Cookies: NameList{All: true}}}},
		file: "--origin",
	}
	for _, a := range adjust {
		a(c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}
