package deploy

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
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

// jsruntime parses a lambda-edge file wrapped in this prefix (jsruntime/program.go), under
// /var/task. jsruntime exposes no typed syntax error yet, so the position is recovered from
// goja's error and corrected for the wrapper; TestCompileErrorPosition guards the coupling.
var parserMessage = regexp.MustCompile(`^(.*): Line (\d+):(\d+) (.*?)(?: \(and \d+ more errors?\))?$`)

const (
	moduleWrapper = "(function(exports,require,module,__filename,__dirname){"
	taskRoot      = "/var/task/"
)

// compileError extracts a syntax error's position from an error of jsruntime.New, or returns
// nil if err is not a syntax error.
func compileError(err error) *CompileError {
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
	case errors.As(err, &cse):
		// goja.Parse flattens the parser's error into the message: "FILE: Line L:C MSG".
		m := parserMessage.FindStringSubmatch(cse.Message)
		if m == nil {
			return &CompileError{Message: cse.Message, Err: err}
		}
		pos.Filename, msg = m[1], m[4]
		pos.Line, _ = strconv.Atoi(m[2])
		pos.Column, _ = strconv.Atoi(m[3])
	default:
		return nil
	}
	name := pos.Filename
	wrapped := strings.HasPrefix(name, taskRoot)
	name = strings.TrimPrefix(strings.TrimPrefix(name, taskRoot), "/")
	if wrapped && pos.Line == 1 && pos.Column > len(moduleWrapper) {
		pos.Column -= len(moduleWrapper)
	}
	return &CompileError{File: name, Line: pos.Line, Column: pos.Column, Message: msg, Err: err}
}
