package deploy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vergecdn/verge/jsruntime"
)

// CompileError is a syntax error in uploaded code, with its position in the package.
type CompileError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`   // 1-based
	Column  int    `json:"column"` // 1-based
	Message string `json:"message"`
	Err     error  `json:"-"`
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("deploy: %s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

func (e *CompileError) Unwrap() error { return e.Err }

// compileError returns the syntax error in an error of jsruntime.New as a *CompileError, or
// nil if err is not one. jsruntime reports it typed (from a worker process too), so no error
// text is parsed here.
func compileError(err error) *CompileError {
	var se *jsruntime.SyntaxError
	if !errors.As(err, &se) {
		return nil
	}
	return &CompileError{File: se.File, Line: se.Line, Column: se.Column, Message: se.Message, Err: err}
}

// LoadError is uploaded code's failure to load other than a syntax error (see Check): the
// upload is at fault, not the node.
type LoadError struct {
	Function string
	Err      error // jsruntime.New's error
}

// Error says which function does not load and why, without the runtime's prefix and the
// "NAME:check" it names the check's throwaway version with.
func (e *LoadError) Error() string {
	cause := e.Err
	if u := errors.Unwrap(cause); u != nil {
		cause = u
	}
	return "deploy: function " + e.Function + " does not load: " + strings.TrimPrefix(cause.Error(), "jsruntime: ")
}

func (e *LoadError) Unwrap() error { return e.Err }
