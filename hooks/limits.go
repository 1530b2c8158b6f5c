package hooks

import "time"

// Limits bound one function invocation. Zero fields mean the default for the function's dialect
// and stage (DefaultLimits).
type Limits struct {
	// Timeout is the wall-clock limit of one invocation. Default: 5s at viewer stages, 30s at
	// origin stages (Lambda@Edge's conservative values); CloudFrontFunctionsTimeout for
	// CloudFront Functions.
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

// CloudFrontFunctionsTimeout is the default time limit of a CloudFront Functions invocation.
// CloudFront allows about a millisecond of compute (which `verge fn test` reports as
// computeUtilization), but a wall clock on a busy node is no compute meter, and goja is slower
// than CloudFront's engine: a limit that tight would fail healthy functions under load. This
// one stops runaway code a hundred times sooner than Lambda@Edge's 5 s.
const CloudFrontFunctionsTimeout = 50 * time.Millisecond

// DefaultLimits returns the limits of a function of dialect d at stage s: Lambda@Edge's
// conservative values, and for CloudFront Functions (viewer stages only) a shorter time limit.
func DefaultLimits(d Dialect, s Stage) Limits {
	if d == CloudFrontFunctions {
		return Limits{Timeout: CloudFrontFunctionsTimeout, MemoryMB: 128, GeneratedResponseBytes: 40 << 10, BodyBytes: 40 << 10}
	}
	if s.IsViewer() {
		return Limits{Timeout: 5 * time.Second, MemoryMB: 128, GeneratedResponseBytes: 40 << 10, BodyBytes: 40 << 10}
	}
	return Limits{Timeout: 30 * time.Second, MemoryMB: 128, GeneratedResponseBytes: 1 << 20, BodyBytes: 1 << 20}
}

// WithDefaults fills the zero fields of l from DefaultLimits(d, s).
func (l Limits) WithDefaults(d Dialect, s Stage) Limits {
	d0 := DefaultLimits(d, s)
	if l.Timeout <= 0 {
		l.Timeout = d0.Timeout
	}
	if l.MemoryMB <= 0 {
		l.MemoryMB = d0.MemoryMB
	}
	if l.GeneratedResponseBytes <= 0 {
		l.GeneratedResponseBytes = d0.GeneratedResponseBytes
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = d0.BodyBytes
	}
	return l
}
