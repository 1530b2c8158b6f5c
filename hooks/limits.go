package hooks

import "time"

// Limits bound one function invocation. Zero fields mean the stage's default (DefaultLimits).
type Limits struct {
	// Timeout is the wall-clock limit of one invocation. Default: 5s at viewer stages, 30s at
	// origin stages (Lambda@Edge's conservative values).
	Timeout time.Duration
	// MemoryMB is the memory a runtime may use, in MiB. Default 128.
	MemoryMB int
	// GeneratedResponseBytes bounds a generated or replaced response (headers and body).
	// Default: 40 KB at viewer stages, 1 MB at origin stages.
	GeneratedResponseBytes int
	// BodyBytes is where an included request body is truncated. Default: 40 KB (viewer-request),
	// 1 MB (origin-request).
	BodyBytes int
}

// MaxURIBytes bounds a URI plus its query string, as CloudFront does.
const MaxURIBytes = 8192

// URIFits reports whether a URI of uri bytes with a query string of query bytes is within
// MaxURIBytes: what a function's result must keep to, and what the edge asks of a request
// before any function sees it.
func URIFits(uri, query int) bool { return uri+query < MaxURIBytes }

// DefaultLimits returns Lambda@Edge's limits for a stage.
func DefaultLimits(s Stage) Limits {
	if s.IsViewer() {
		return Limits{Timeout: 5 * time.Second, MemoryMB: 128, GeneratedResponseBytes: 40 << 10, BodyBytes: 40 << 10}
	}
	return Limits{Timeout: 30 * time.Second, MemoryMB: 128, GeneratedResponseBytes: 1 << 20, BodyBytes: 1 << 20}
}

// WithDefaults fills the zero fields of l from DefaultLimits(s).
func (l Limits) WithDefaults(s Stage) Limits {
	d := DefaultLimits(s)
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MemoryMB <= 0 {
		l.MemoryMB = d.MemoryMB
	}
	if l.GeneratedResponseBytes <= 0 {
		l.GeneratedResponseBytes = d.GeneratedResponseBytes
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = d.BodyBytes
	}
	return l
}
