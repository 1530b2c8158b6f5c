package edge

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vergecdn/verge/cache"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/hotmetrics"
	"github.com/vergecdn/verge/origin"
)

// FunctionLoader turns a `functions:` entry of the configuration into a runnable function. The
// binary supplies it (the edge does not know the runtimes). path is fc.File resolved against the
// configuration file's directory, or "" when the code is inline (fc.Source).
//
// Load may return a function it loaded before for the same code, which a reload then keeps
// running. After each build of a pipeline, one that failed too, Keep is told the functions the
// serving pipeline uses: the loader may close every other it loaded once the calls in flight on
// the pipeline replaced are done.
type FunctionLoader interface {
	Load(fc FunctionConfig, path string) (Loaded, error)
	Keep(inUse []Loaded)
}

// Loaded is a function ready to attach.
type Loaded struct {
	Function hooks.Function
	Dialect  hooks.Dialect
	Version  string // label for metrics and logs, e.g. a content hash prefix
}

// pipeline is everything a request needs, built from one Config. It is immutable: a reload
// builds a new one and swaps it in, and requests in flight finish on the one they started with.
type pipeline struct {
	cfg       *Config
	loaded    []Loaded // the configuration's functions, from the FunctionLoader
	behaviors []*behavior
	origins   []*origin.Origin
	adhoc     *origin.Set // origins that origin-request functions switch to
	// byID and events are the configured origins by id, for CloudFront functions' origin
	// choices (originchoice.go).
	byID   map[string]*origin.Origin
	events map[string]*hooks.Origin
}

// behavior is a compiled BehaviorConfig.
type behavior struct {
	id       string // its path pattern, as the CLI names it
	pattern  pathPattern
	hosts    [][]byte // lower-case; empty means any host
	origin   *origin.Origin
	originID []byte        // prefixes cache keys
	event    *hooks.Origin // the origin as origin-facing functions see it
	policy   cache.Policy
	fwd      forwarding  // what reaches the origin; its key is &policy
	fns      [4]*binding // by hooks.Stage; nil when none is attached
	protocol viewerProtocol
}

// binding is a function attached to one event type of one behavior.
type binding struct {
	name, version string
	dialect       hooks.Dialect
	fn            hooks.Function
	limits        hooks.Limits
	includeBody   bool
	selfTimed     bool                               // fn is hooks.SelfTimed: no timer per call
	ok            atomic.Pointer[hotmetrics.Counter] // invocations{outcome="ok"}, once resolved
}

// bind completes b (name, version, dialect, fn and includeBody set) for stage: its limits with
// timeout (0: the stage's default) and whether fn times itself.
func bind(b *binding, stage hooks.Stage, timeout time.Duration) *binding {
	b.limits = hooks.Limits{Timeout: timeout}.WithDefaults(b.dialect, stage)
	_, b.selfTimed = b.fn.(hooks.SelfTimed)
	return b
}

// succeeded counts a successful invocation at stage. The series is resolved on the first
// success, not when the binding is built, so a reload that fails leaves no empty series, and
// later calls skip the label lookup.
func (b *binding) succeeded(inv *hotmetrics.CounterVec, stage hooks.Stage) {
	c := b.ok.Load()
	if c == nil {
		c = inv.With(b.name, b.version, stage.String(), "ok")
		b.ok.Store(c)
	}
	c.Inc()
}

// buildPipeline compiles cfg. On error nothing is left open.
func buildPipeline(cfg *Config, goFns *hooks.GoRegistry, loader FunctionLoader) (_ *pipeline, err error) {
	p := &pipeline{cfg: cfg, adhoc: origin.NewSet(origin.Config{ViaName: cfg.Name}, 0)}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	byID := map[string]*origin.Origin{}
	events := map[string]*hooks.Origin{}
	p.byID, p.events = byID, events
	for _, oc := range cfg.Origins {
		roots, err := loadRoots(oc.CAFile)
		if err != nil {
			return nil, cfg.fieldErr(oc.node, "ca_file", "origins."+oc.ID+".ca_file", "%v", err)
		}
		o, err := origin.New(origin.Config{
			ID: oc.ID, URL: oc.URL, HostHeader: oc.HostHeader, ForwardHost: oc.ForwardHost,
			ConnectTimeout: oc.ConnectTimeout.Std(), ReadTimeout: oc.ReadTimeout.Std(),
			KeepaliveTimeout: oc.KeepaliveTimeout.Std(), MaxConns: oc.MaxConns, ViaName: cfg.Name,
			TLSInsecureSkipVerify: oc.TLSInsecureSkipVerify, RootCAs: roots,
		})
		if err != nil {
			return nil, cfg.fieldErr(oc.node, "url", "origins."+oc.ID, "%v", err)
		}
		p.origins = append(p.origins, o)
		byID[oc.ID] = o
		events[oc.ID] = originEvent(o.Config())
	}
	fns, err := p.loadFunctions(cfg, goFns, loader)
	if err != nil {
		return nil, err
	}
	for i, bc := range cfg.Behaviors {
		b := &behavior{
			id:       bc.Path,
			pattern:  compilePattern(bc.Path),
			origin:   byID[bc.Origin],
			originID: []byte(bc.Origin),
			event:    events[bc.Origin],
			policy:   policyOf(bc.Cache),
			protocol: parseViewerProtocol(bc.ViewerProtocolPolicy),
		}
		b.fwd = newForwarding(&b.policy, bc.OriginRequest)
		for _, h := range bc.Hosts {
			b.hosts = append(b.hosts, []byte(strings.ToLower(h)))
		}
		for event, a := range bc.Functions {
			stage, _ := hooks.ParseStage(event) // validated with the config
			l, ok := fns[a.Function]
			if !ok {
				return nil, cfg.fieldErr(a.node, "function", fmt.Sprintf("behaviors[%d].functions.%s", i, event),
					"unknown function %q (Go functions: %s)", a.Function, strings.Join(goFns.Names(), ", "))
			}
			if l.Dialect == hooks.CloudFrontFunctions && !stage.IsViewer() {
				return nil, cfg.fieldErr(a.node, "function", fmt.Sprintf("behaviors[%d].functions.%s", i, event),
					"%q is a CloudFront Function: viewer-request and viewer-response only", a.Function)
			}
			b.fns[stage] = bind(&binding{name: a.Function, version: l.Version, dialect: l.Dialect, fn: l.Function,
				includeBody: a.IncludeBody}, stage, a.Timeout.Std())
		}
		p.behaviors = append(p.behaviors, b)
	}
	return p, nil
}

// loadFunctions resolves every function name the configuration can refer to, and notes in
// p.loaded what the loader made.
func (p *pipeline) loadFunctions(cfg *Config, goFns *hooks.GoRegistry, loader FunctionLoader) (map[string]Loaded, error) {
	fns := map[string]Loaded{}
	for _, name := range goFns.Names() {
		f, _ := goFns.Lookup(name)
		fns[name] = Loaded{Function: f, Dialect: hooks.LambdaEdge, Version: "go"}
	}
	for i, fc := range cfg.Functions {
		field := fmt.Sprintf("functions[%d]", i)
		if _, dup := fns[fc.Name]; dup {
			return nil, cfg.fieldErr(fc.node, "name", field+".name", "%q is already a Go function", fc.Name)
		}
		if loader == nil {
			return nil, cfg.fieldErr(fc.node, "runtime", field, "this build cannot run %s functions", fc.Runtime)
		}
		l, err := loader.Load(fc, cfg.relPath(fc.File))
		if err != nil {
			return nil, cfg.fieldErr(fc.node, "file", field, "%v", err)
		}
		fns[fc.Name] = l
		p.loaded = append(p.loaded, l)
	}
	return fns, nil
}

func policyOf(c CachePolicyConfig) cache.Policy {
	p := cache.Policy{
		MinTTL: c.MinTTL.Std(), DefaultTTL: c.DefaultTTL.Std(), MaxTTL: c.MaxTTL.Std(), Heuristic: c.HeuristicFreshness,
		StaleIfError: c.StaleIfError.Std(), Headers: c.Headers, Cookies: c.Cookies,
	}
	p.QueryStrings, p.QueryNames = queryModeOf(c.QueryStrings)
	return p
}

// queryModeOf compiles a query_strings setting.
func queryModeOf(q QueryStringsConfig) (cache.QueryMode, []string) {
	switch q.Mode {
	case "all":
		return cache.QueryAll, nil
	case "allow":
		return cache.QueryAllow, q.Names
	case "deny":
		return cache.QueryDeny, q.Names
	}
	return cache.QueryNone, nil
}

// originEvent describes a configured origin as Lambda@Edge's origin.custom.
func originEvent(c origin.Config) *hooks.Origin {
	u, _ := url.Parse(c.URL) // validated by origin.New
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 80
		if u.Scheme == "https" {
			port = 443
		}
	}
	return &hooks.Origin{Custom: &hooks.CustomOrigin{
		DomainName:       u.Hostname(),
		Port:             port,
		Protocol:         u.Scheme,
		Path:             strings.TrimSuffix(u.Path, "/"),
		ReadTimeout:      int(c.ReadTimeout.Seconds()),
		KeepaliveTimeout: int(c.KeepaliveTimeout.Seconds()),
		SSLProtocols:     []string{"TLSv1.2"},
	}}
}

// match returns the first behavior whose hosts and pattern accept the request. The last
// behavior is the default "*", so there always is one.
func (p *pipeline) match(host, path []byte) *behavior {
	if i := bytes.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	for _, b := range p.behaviors {
		if len(b.hosts) > 0 && !hostIn(host, b.hosts) {
			continue
		}
		if b.pattern.match(path) {
			return b
		}
	}
	return p.behaviors[len(p.behaviors)-1]
}

func hostIn(host []byte, hosts [][]byte) bool {
	for _, h := range hosts {
		if bytes.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// close releases the pipeline's origin connections. Fetches in flight finish.
func (p *pipeline) close() {
	for _, o := range p.origins {
		o.Close()
	}
	p.adhoc.Close()
}
