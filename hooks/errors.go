package hooks

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies a function failure the way CloudFront reports it to the viewer.
type Kind uint8

const (
	// Execution: the function threw, rejected, called back with an error, or its runtime crashed.
	Execution Kind = iota
	// Validation: the function returned something CloudFront's rules refuse.
	Validation
	// Timeout: the function ran past its time limit (or compute budget).
	Timeout
	// Throttled: the function's concurrency limit was reached.
	Throttled
)

// Status is the HTTP status the viewer gets: 502 for a validation failure, 503 otherwise
// (docs/hooks.md, "What a function may not do").
func (k Kind) Status() int {
	if k == Validation {
		return http.StatusBadGateway
	}
	return http.StatusServiceUnavailable
}

func (k Kind) String() string {
	switch k {
	case Validation:
		return "validation"
	case Timeout:
		return "timeout"
	case Throttled:
		return "throttled"
	default:
		return "error"
	}
}

// Dialect is the product whose rules and words a function follows.
type Dialect uint8

const (
	// LambdaEdge is runtime "lambda-edge" (and Go functions).
	LambdaEdge Dialect = iota
	// CloudFrontFunctions is runtimes cloudfront-js-1.0 and cloudfront-js-2.0 (see DialectOf).
	CloudFrontFunctions
)

// ResultType is CloudFront's detailed result type for a failure of kind k, as it appears in
// X-Cache ("LambdaValidationError from verge").
func (d Dialect) ResultType(k Kind) string {
	if d == CloudFrontFunctions {
		switch k {
		case Validation:
			return "FunctionValidationError"
		case Throttled:
			return "FunctionThrottledError"
		default:
			return "FunctionExecutionError"
		}
	}
	switch k {
	case Validation:
		return "LambdaValidationError"
	case Timeout, Throttled:
		return "LambdaLimitExceeded"
	default:
		return "LambdaExecutionError"
	}
}

// Error is a function failure. Runtimes return it from Invoke; Validate returns it too.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("function %s: %v", e.Kind, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// KindOf classifies any error returned by Invoke: an *Error keeps its kind, anything else is an
// execution error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Execution
}
