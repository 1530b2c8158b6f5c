package jsruntime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// SyntaxError is a syntax error in a function's source, with its position in the package
// (File is the package-relative path, Line and Column are 1-based). A worker that finds one
// while compiling sends it to the node as these four fields, so the position survives
// Process isolation without any error text being parsed.
type SyntaxError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jsruntime: compile: %s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// moduleWrapper is the function a Lambda@Edge file's source is parsed inside (as Node wraps
// CommonJS modules); a position on its first line is corrected for it.
const moduleWrapper = "(function(exports,require,module,__filename,__dirname){"

// syntaxError converts an error of goja's parser or compiler into a *SyntaxError, or returns
// nil when err carries no position. wrapped says the source was parsed inside moduleWrapper.
func syntaxError(err error, wrapped bool) *SyntaxError {
	var pos file.Position
	var msg string
	var list parser.ErrorList
	var one *parser.Error
	var cse *goja.CompilerSyntaxError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		pos, msg = list[0].Position, list[0].Message
	case errors.As(err, &one):
		pos, msg = one.Position, one.Message
	case errors.As(err, &cse) && cse.File != nil:
		pos, msg = cse.File.Position(cse.Offset), cse.Message
	default:
		return nil
	}
	if wrapped && pos.Line == 1 && pos.Column > len(moduleWrapper) {
		pos.Column -= len(moduleWrapper)
	}
	name := strings.TrimPrefix(strings.TrimPrefix(pos.Filename, taskRoot), "/")
	return &SyntaxError{File: name, Line: pos.Line, Column: pos.Column, Message: msg}
}
