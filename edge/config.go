package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a node's configuration, as read from YAML. Every field documents its default; the
// comments here are the configuration reference (configs/ has commented examples).
type Config struct {
	// Listen is the viewer address. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// Admin is the admin address (metrics, health, admin API). Default "127.0.0.1:8081".
	Admin string `yaml:"admin"`
	// AdminTokens are the admin API's bearer tokens, each "NAME=SECRET" (NAME is what the audit
	// log records) or a bare SECRET; the env var VERGE_ADMIN_TOKENS adds more in the same form.
	// With none, the admin API needs no token and must listen on loopback. With tokens, every
	// route of the admin port needs one (/metrics only with MetricsAuth), except /healthz and
	// /readyz.
	AdminTokens []string `yaml:"admin_tokens"`
	// AdminHosts are the names, besides loopback names, the admin address's host and IP
	// literals, that requests to the admin port may carry in Host (and browsers in Origin):
	// another Host is answered 421, so that a web page cannot reach the admin API by
	// rebinding its own name to this machine's address (DNS rebinding). List the names
	// operators, Prometheus and peers use ("edge-1.internal"); "*" accepts any and turns the
	// check off. Default: none.
	AdminHosts []string `yaml:"admin_hosts"`
	// MetricsAuth makes GET /metrics need an admin token like the rest of the admin port
	// (Prometheus: `authorization: {credentials: TOKEN}`). Default false: /metrics needs the
	// right Host but no token.
	MetricsAuth bool `yaml:"metrics_auth"`
	// Data is the directory for durable state, relative to this file when written here (like
	// every path in the configuration). Default "./data" in the node's working directory;
	// `serve --data` wins.
	Data string `yaml:"data"`
	// Name identifies this node in Via and X-Cache ("1.1 verge"). Default "verge".
	Name string `yaml:"name"`
	// AccessLog is where JSON access logs go: "stdout" (default), "stderr", "off", or a file path
	// (relative to this file).
	AccessLog string `yaml:"access_log"`
	// Cache sizes the in-memory object cache.
	Cache CacheConfig `yaml:"cache"`
	// Server tunes the viewer-facing HTTP server.
	Server ServerConfig `yaml:"server"`
	// Origins are the servers behind the node, referred to by ID from behaviors.
	Origins []OriginConfig `yaml:"origins"`
	// Behaviors are matched in order against each request's path (CloudFront's rules); the last
	// must be the default behavior, path "*".
	Behaviors []BehaviorConfig `yaml:"behaviors"`
	// Functions are function code loaded from files, attachable by name (as Go functions are).
	Functions []FunctionConfig `yaml:"functions"`
	// Cluster is the fleet this node belongs to.
	Cluster ClusterConfig `yaml:"cluster"`
	// TLS serves viewers over HTTPS too.
	TLS TLSConfig `yaml:"tls"`

	file string     // where it was read from, for error messages and relative paths
	node *yaml.Node // its top-level mapping, for the lines of errors; nil when built in code
}

// CacheConfig sizes the cache.
type CacheConfig struct {
	// MaxSize is the byte budget for cached objects ("256MiB", "1GB" or a number of bytes).
	// Default 256 MiB.
	MaxSize ByteSize `yaml:"max_size"`
	// MaxObjectSize is the largest response that is stored. Default 32 MiB.
	MaxObjectSize ByteSize `yaml:"max_object_size"`
	// KeepStale is how long an object stays in the cache once it is no longer fresh, so that
	// the next request revalidates it with the origin (If-None-Match, If-Modified-Since)
	// instead of downloading it again. Stale objects count against max_size and are evicted
	// first by their lower use. Default 1h.
	KeepStale Duration `yaml:"keep_stale"`
}

// ServerConfig tunes the viewer-facing server.
type ServerConfig struct {
	// ReadTimeout bounds reading one request, headers and body. Default 30s.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing one response. Default 60s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long. Default 60s.
	//
	// The three fire never early and, on a node that is not overloaded, at most a sixteenth
	// of the shortest of them late (from 1 ms to 250 ms): one sweeper enforces them (package
	// conntimeout).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxRequestBodySize bounds request bodies. Default 16 MiB.
	MaxRequestBodySize ByteSize `yaml:"max_request_body_size"`
	// ShutdownTimeout is how long SIGTERM waits for in-flight requests. Default 30s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// GCPercent is the Go collector's GOGC for the node. Default 400: a node's live heap is
	// mostly the cache and the warm JS runtimes, and collecting at every doubling of a small
	// live heap cost a third of a warm JS hook (BenchmarkWarmInvoke: 7.9 µs at GOGC 100, 5.3 at
	// 200). MemoryLimit bounds what the higher setting may grow to. The GOGC environment
	// variable, when set, wins. -1 turns the collector off until MemoryLimit.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimit is the soft limit on the node's Go memory (GOMEMLIMIT): near it the
	// collector runs more often rather than let the heap grow. Default: twice
	// cache.max_size plus 512 MiB. The GOMEMLIMIT environment variable, when set, wins.
	MemoryLimit ByteSize `yaml:"memory_limit"`
	// MaxFunctionVersions caps the uploaded function versions the node runs at once, attached
	// to a behavior or finishing calls after being replaced. Each is a program in its
	// function's worker process when that process runs (see MaxFunctionWorkers). An
	// association beyond the cap keeps its previous target, or answers 503, and the deploy
	// reports it. Default 1024.
	MaxFunctionVersions int `yaml:"max_function_versions"`
	// MaxFunctionWorkers caps the worker processes the node keeps for uploaded functions once
	// they are idle, one per function, the spare not counted. Each holds a Go runtime and heap
	// of its own, so the cap bounds the memory idle functions take however many are deployed:
	// past it, the processes of functions not called for 2 s are ended, and a call to one of
	// them starts it again from the spare (bench/README.md measures both). While more functions
	// than the cap are busy, up to 4 times as many run (see jsruntime.NewWorkers): size the
	// memory for that. Default: 8 per processor (GOMAXPROCS), as the functions busy at once
	// are bounded by the processors that run them.
	MaxFunctionWorkers int `yaml:"max_function_workers"`
	// FunctionWorkerIdle is how long an uploaded function's worker process may go without a
	// call before the node ends it, under MaxFunctionWorkers too: a function called once an
	// hour holds no process between its calls, and its next call starts its worker again from
	// the spare (a compile, about 2 ms more for that request). Default (or 0) 15m; at least 2s.
	// To keep workers for as long as their functions are deployed, give a long one (8760h).
	FunctionWorkerIdle Duration `yaml:"function_worker_idle"`
}

// OriginConfig is one origin.
type OriginConfig struct {
	// ID names the origin for behaviors, logs and metrics. Required.
	ID string `yaml:"id"`
	// URL is "http[s]://host[:port][/base/path]". Required.
	URL string `yaml:"url"`
	// HostHeader is the Host sent to the origin. Default: the URL's host.
	HostHeader string `yaml:"host_header"`
	// ForwardHost sends the viewer's Host instead. Default false.
	ForwardHost bool `yaml:"forward_host"`
	// ConnectTimeout bounds connecting. Default 5s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// ReadTimeout bounds waiting for the response to begin, and then between two pieces of
	// it (CloudFront's response timeout), so a long stream is not cut off. Default 30s.
	ReadTimeout Duration `yaml:"read_timeout"`
	// KeepaliveTimeout closes idle origin connections after this long. Default 5s.
	KeepaliveTimeout Duration `yaml:"keepalive_timeout"`
	// MaxConns bounds open connections to the origin. Default 512.
	MaxConns int `yaml:"max_conns"`
	// TLSInsecureSkipVerify disables certificate checks (test origins only). Default false.
	TLSInsecureSkipVerify bool `yaml:"tls_insecure_skip_verify"`
	// CAFile is a PEM file of the authorities an https origin's certificate must chain to
	// (an internal CA), relative to this file; read again on every reload. Default: the
	// system's roots.
	CAFile string `yaml:"ca_file"`

	node *yaml.Node
}

// BehaviorConfig routes a path pattern to an origin with a cache policy and functions.
type BehaviorConfig struct {
	// Path is a CloudFront path pattern: '*' matches any run of characters (slashes included),
	// '?' exactly one; case-sensitive; a leading '/' is optional. "*" is the default behavior.
	Path string `yaml:"path"`
	// Hosts limits the behavior to these Host values (case-insensitive). Default: any host.
	Hosts []string `yaml:"hosts"`
	// Origin is the ID of the origin. Required unless there is exactly one origin.
	Origin string `yaml:"origin"`
	// Cache is the cache policy. What it puts in the cache key is all that a cacheable request
	// (GET, HEAD) carries to the origin, with Via, X-Forwarded-For and X-Forwarded-Proto
	// (the viewer's scheme, which is in every key), unless OriginRequest forwards more.
	Cache CachePolicyConfig `yaml:"cache"`
	// OriginRequest forwards more of a cacheable request than the key holds (CloudFront's
	// origin request policy). A request that carries something it forwards beyond the key
	// is a pass: it is answered from the cache only by an object stored from a response
	// that said public or s-maxage, and its own response is stored only when it says so.
	// Default: nothing more.
	OriginRequest OriginRequestConfig `yaml:"origin_request"`
	// Functions associates a function with an event type (viewer-request, origin-request,
	// origin-response, viewer-response).
	Functions map[string]AssociationConfig `yaml:"functions"`
	// ViewerProtocolPolicy is CloudFront's: "allow-all" (default) serves HTTP and HTTPS;
	// "redirect-to-https" answers an HTTP request with a 301 to its https:// URL;
	// "https-only" answers it 403. Neither runs a function or reaches the origin.
	ViewerProtocolPolicy string `yaml:"viewer_protocol_policy"`

	node *yaml.Node
}

// CachePolicyConfig is a behavior's cache policy. TTLs are durations ("30s", "24h") or numbers
// of seconds.
type CachePolicyConfig struct {
	// MinTTL is the least time an object stays fresh, whatever the origin says. Default 0.
	MinTTL Duration `yaml:"min_ttl"`
	// DefaultTTL applies when the origin sends no Cache-Control max-age/s-maxage or Expires. Default 0.
	DefaultTTL Duration `yaml:"default_ttl"`
	// HeuristicFreshness, when default_ttl is 0, lets a response without explicit freshness
	// but with Last-Modified stay fresh for a tenth of the time since it was last modified, at
	// most a day (RFC 9111 4.2.2), as general-purpose HTTP caches do. Default false; the
	// `verge serve --origin` quick start sets it.
	HeuristicFreshness bool `yaml:"heuristic_freshness"`
	// MaxTTL caps what the origin asks for. Default one year.
	MaxTTL *Duration `yaml:"max_ttl"`
	// StaleIfError is how long past its freshness an object may answer when the origin fails
	// (a 5xx, a refused connection, a timeout), as if every response said stale-if-error
	// (RFC 5861); must-revalidate, proxy-revalidate and no-cache still forbid it. At most
	// cache.keep_stale unless the object's own stale-* directives keep it longer. Default 0.
	StaleIfError Duration `yaml:"stale_if_error"`
	// QueryStrings says which query parameters are in the cache key: "none" (default), "all",
	// or {allow: [names]} / {deny: [names]}.
	QueryStrings QueryStringsConfig `yaml:"query_strings"`
	// Headers are request headers in the cache key.
	Headers []string `yaml:"headers"`
	// Cookies are cookies in the cache key.
	Cookies []string `yaml:"cookies"`
}

// OriginRequestConfig is what a behavior forwards to its origin beyond its cache key.
type OriginRequestConfig struct {
	// QueryStrings are query parameters forwarded beyond the key's: "none" (default), "all",
	// or {allow: [names]} / {deny: [names]}.
	QueryStrings QueryStringsConfig `yaml:"query_strings"`
	// Headers are request headers forwarded beyond the key's: a list of names, or "all". With
	// "all" every header is forwarded, as a plain HTTP cache does, and the origin's Vary says
	// which of them its answer depends on; then only Authorization makes a request a pass.
	// X-Forwarded-Host, X-Original-URL, X-Rewrite-URL and X-HTTP-Method-Override are
	// forwarded only when they are in the key, whatever this says. Default: none.
	Headers NameList `yaml:"headers"`
	// Cookies are cookies forwarded beyond the key's: a list of names, or "all". Default: none.
	Cookies NameList `yaml:"cookies"`
}

// NameList is a list of names, or "all".
type NameList struct {
	All   bool
	Names []string
}

// QueryStringsConfig is "none", "all", {allow: [...]} or {deny: [...]}.
type QueryStringsConfig struct {
	Mode  string
	Names []string
}

// AssociationConfig attaches a function to an event type: a plain function name, or a mapping.
type AssociationConfig struct {
	// Function names a Go function or an entry of Config.Functions.
	Function string `yaml:"function"`
	// IncludeBody hands the request body to request-stage functions. Default false.
	IncludeBody bool `yaml:"include_body"`
	// Timeout overrides the stage's default time limit.
	Timeout Duration `yaml:"timeout"`

	node *yaml.Node
}

// FunctionConfig is function code loaded from a file.
type FunctionConfig struct {
	// Name is how behaviors refer to it. Required, unique.
	Name string `yaml:"name"`
	// File is the code, relative to the config file's directory. Exactly one of File and
	// Source is required.
	File string `yaml:"file"`
	// Source is the code itself, for short functions written inline.
	Source string `yaml:"source"`
	// Runtime is "lambda-edge" (default), "cloudfront-js-1.0" or "cloudfront-js-2.0"
	// ("cloudfront-functions" is an alias of cloudfront-js-2.0).
	Runtime string `yaml:"runtime"`
	// Isolation is "process" (default: the function runs in a sandboxed worker process, as
	// uploaded code does) or "in-process", an explicit choice for trusted code that needs the
	// last microseconds: it shares the node's memory and stack, so a runaway script is bounded
	// only by the function's deadline (which built-ins running in native code, such as
	// JSON.stringify of a deep object, do not see) and the node's memory guard.
	Isolation string `yaml:"isolation"`
	// KVS names the KeyValueStore a CloudFront function (cloudfront-js-2.0) reads with
	// cf.kvs(): a store of the node's data directory, managed with `verge kvs`. Read live: a
	// change to the store needs no reload.
	KVS string `yaml:"kvs"`

	node *yaml.Node
}

// LoadConfig reads and validates a YAML configuration file (see ParseConfig).
func LoadConfig(path string, adjust ...func(*Config)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, data, adjust...)
}

// ParseConfig parses and validates YAML configuration. name is used in error messages, which
// have the form "NAME:LINE: FIELD: problem". Each adjust changes the configuration as read,
// before it is validated (serve's flags that stand for fields, such as TLSFlags).
func ParseConfig(name string, data []byte, adjust ...func(*Config)) (*Config, error) {
	cfg := &Config{file: name}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil { // a syntax error is the decoder's to report
		if err := unknownFields(name, &doc); err != nil {
			return nil, err
		}
		if len(doc.Content) == 1 {
			cfg.node = doc.Content[0]
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return nil, yamlError(name, data, err)
	}
	cfg.Data = cfg.relPath(cfg.Data)
	for i := range cfg.Origins {
		cfg.Origins[i].CAFile = cfg.relPath(cfg.Origins[i].CAFile)
	}
	for i := range cfg.TLS.Certificates {
		c := &cfg.TLS.Certificates[i]
		c.Cert, c.Key = cfg.relPath(c.Cert), cfg.relPath(c.Key)
	}
	switch cfg.AccessLog {
	case "", "stdout", "stderr", "off":
	default:
		cfg.AccessLog = cfg.relPath(cfg.AccessLog)
	}
	for _, a := range adjust {
		a(cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// relPath resolves a path written in the configuration against the configuration file's
// directory, as every path in it is (data, access_log, functions' files), whatever directory
// the node was started from. A path given as a flag stays relative to the shell's.
func (c *Config) relPath(p string) string {
	if p == "" || filepath.IsAbs(p) || c.file == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.file), p)
}

// File is the path the configuration was read from ("" when built in code).
func (c *Config) File() string { return c.file }

// TTL bounds applied when a behavior leaves them out.
const (
	defaultMaxTTL = 365 * 24 * time.Hour
)
