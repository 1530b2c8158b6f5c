package deploy

import (
	"errors"
	"fmt"

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
