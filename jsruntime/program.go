package jsruntime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja_nodejs/require"
	"github.com/vergecdn/verge/hooks"
)

// taskRoot is where a function's files appear to live, as in Lambda.
const taskRoot = "/var/task"

// program is one function version's compiled, immutable state, shared by all its runtimes:
// the options, the module registry (which caches every file's compiled *goja.Program after its
// first require), or the compiled script of a CloudFront function.
type program struct {
	opts   Options
	files  map[string]string // absolute path under taskRoot -> source
	dir    string            // Code.Dir
	entry  string            // absolute path of the entry file
	reg    *require.Registry
	script *goja.Program // CloudFront Functions only
	// byteStrings: the runtimes get CloudFront Functions 1.0's byte-string helpers (globals.js;
	// see namesByteStrings).
	byteStrings bool
	natives     sync.Map // *goja.Runtime -> *goja.Object
	modules     sync.Map // absolute path -> *goja.Program, a Lambda@Edge file compiled on its first require
	// asyncElided: the handler was compiled without its async keyword (elideAsync), so its
	// return value settles the invocation.
	asyncElided bool
}

var regexpTimeoutOnce sync.Once

// compile checks the code against the size and nesting caps and prepares it to run.
func compile(o Options) (*program, error) {
	regexpTimeoutOnce.Do(func() { regexp2.DefaultMatchTimeout = o.RegexpTimeout })
	c := o.Code
	if len(c.Files) == 0 {
		return nil, errors.New("jsruntime: the function has no source files")
	}
	total := 0
	files := make(map[string]string, len(c.Files))
	names := make([]string, 0, len(c.Files))
	for name, src := range c.Files {
		clean := path.Clean("/" + strings.TrimPrefix(name, "./"))
		if strings.Contains(name, "..") {
			return nil, fmt.Errorf("jsruntime: file name %q must not contain \"..\"", name)
		}
		total += len(src)
		src = prepareSource(o.Runtime, name, src)
		if d := sourceNesting(src); d > o.MaxNesting {
			return nil, fmt.Errorf("jsruntime: %s nests brackets %d deep, over the limit of %d", name, d, o.MaxNesting)
		}
		files[taskRoot+clean] = src
		names = append(names, clean)
	}
	if total > o.MaxSourceBytes {
		return nil, fmt.Errorf("jsruntime: the package is %d bytes, over the limit of %d", total, o.MaxSourceBytes)
	}
	sort.Strings(names)
	entry := c.Entry
	switch {
	case entry != "":
		entry = path.Clean("/" + strings.TrimPrefix(entry, "./"))
	case hasKey(files, taskRoot+"/index.js"):
		entry = "/index.js"
	case hasKey(files, taskRoot+"/index.mjs"):
		entry = "/index.mjs"
	case len(names) == 1:
		entry = names[0]
	default:
		return nil, errors.New("jsruntime: several files and no entry point (set Code.Entry)")
	}
	p := &program{opts: o, files: files, entry: taskRoot + entry, dir: c.Dir}
	if !hasKey(files, p.entry) {
		return nil, fmt.Errorf("jsruntime: entry file %q is not in the package", c.Entry)
	}
	if o.cff() {
		prg, err := compileCFF(o.Runtime, entry, files[p.entry])
		if err != nil {
			return nil, err
		}
		p.script = prg
		p.byteStrings = namesByteStrings(files[p.entry])
	} else {
		// Parse the entry now, so that its syntax error fails the deployment rather than the
		// first request (the deployment's load check runs its top-level requires too). The
		// package's other files are parsed when required, as Node does: a package holds files
		// nothing requires (a dependency's tests, examples, other builds), which need not parse.
		if _, err := parser.ParseFile(nil, p.entry, moduleWrapper+files[p.entry]+"\n})", 0, parser.WithDisableSourceMaps); err != nil {
			return nil, compileError(err, true)
		}
	}
	if err := p.newRegistry(); err != nil {
		return nil, err
	}
	return p, nil
}

// compileScript compiles a CloudFront function's script.
func compileScript(name, src string) (*goja.Program, error) {
	ast, err := parser.ParseFile(nil, name, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, compileError(err, false)
	}
	// An inline map is checked as a module's is (sourceMap): goja's own reading of one takes
	// a map that names no source, and then panics on every stack it makes.
	ast.File.SetSourceMap(sourceMap(name, src, noFiles))
	prg, err := goja.CompileAST(ast, true)
	if err != nil {
		return nil, compileError(err, false)
	}
	return prg, nil
}

// compileError returns err as a *SyntaxError when it has a position.
func compileError(err error, wrapped bool) error {
	if se := syntaxError(err, wrapped); se != nil {
		return se
	}
	return fmt.Errorf("jsruntime: compile: %w", err)
}

// newRegistry gives p a module registry of its own for the built-in modules. It serves no
// file (the package's files are loaded by modules, modload.go), and never the host's.
func (p *program) newRegistry() error {
	p.reg = require.NewRegistry(require.WithLoader(noFiles), require.WithPathResolver(resolvePath))
	return registerBuiltins(p.reg, p.nativesOf)
}

// noFiles is the source loader of what reads no file: the registry, and a CloudFront
// function's `//# sourceMappingURL=` (only a data: URL is read).
func noFiles(string) ([]byte, error) { return nil, require.ModuleFileDoesNotExistError }

// module returns the compiled program of the Lambda@Edge file at absolute path name, whose
// source is src, compiling it on the first call: every runtime of p runs the same program.
func (p *program) module(name, src string) (*goja.Program, error) {
	if prg, ok := p.modules.Load(name); ok {
		return prg.(*goja.Program), nil
	}
	prg, err := compileModule(name, src, p.load)
	if err != nil {
		return nil, err
	}
	got, _ := p.modules.LoadOrStore(name, prg)
	return got.(*goja.Program), nil
}

// withFiles returns a program like p over other sources (already prepared and checked).
func (p *program) withFiles(files map[string]string) (*program, error) {
	q := &program{opts: p.opts, files: files, dir: p.dir, entry: p.entry}
	if err := q.newRegistry(); err != nil {
		return nil, err
	}
	return q, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func (p *program) load(name string) ([]byte, error) {
	if src, ok := p.files[name]; ok {
		return []byte(src), nil
	}
	rel, ok := strings.CutPrefix(name, taskRoot+"/")
	if p.dir == "" || !ok || !filepath.IsLocal(rel) {
		return nil, require.ModuleFileDoesNotExistError
	}
	b, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isDirErr(err) {
			return nil, require.ModuleFileDoesNotExistError
		}
		return nil, fmt.Errorf("jsruntime: %w", err)
	}
	return []byte(prepareSource(p.opts.Runtime, name, string(b))), nil
}

func isDirErr(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "directory")
}

// prepareSource blanks a leading "#!" line (Node ignores it) and rewrites ES modules.
func prepareSource(runtime, name, src string) string {
	if strings.HasPrefix(src, "#!") {
		src = "//" + src[2:]
	}
	if !hooks.IsCloudFrontFunctions(runtime) && isESM(name, src) {
		src = esmToCJS(src)
	}
	return src
}

func (p *program) nativesOf(rt *goja.Runtime) *goja.Object {
	n, _ := p.natives.Load(rt)
	o, _ := n.(*goja.Object)
	return o
}

// resolvePath joins module paths without touching the host file system.
func resolvePath(base, name string) string {
	if strings.HasPrefix(name, "/") {
		return path.Clean(name)
	}
	return path.Join(base, name)
}

// sourceNesting returns the deepest bracket nesting of JS source, skipping strings, the text
// of template literals and comments, and counting a template substitution ("${") as a level
// with the brackets inside it. It is a guard against accidents in trusted, in-process code:
// the parser's stack is what it protects, and untrusted code is compiled in a worker process,
// where an overflow kills only the worker. A "/" after an operator, an opening bracket or a
// keyword such as return starts a regular expression literal, whose brackets do not count.
func sourceNesting(src string) int {
	depth, maxDepth := 0, 0
	var subst []int // the depth outside each open template substitution
	open := func() {
		depth++
		maxDepth = max(maxDepth, depth)
	}
	// template scans template text from i (after "`" or a substitution's "}"): it returns the
	// index of the closing "`", or of the "{" of a substitution, which it opens.
	template := func(i int) int {
		for ; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '`':
				return i
			case '$':
				if i+1 < len(src) && src[i+1] == '{' {
					subst = append(subst, depth)
					open()
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'':
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '`':
			i = template(i + 1)
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			} else if i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return maxDepth
				}
				i += end + 3
			} else if regexpStarts(src[:i]) {
				i = regexpEnd(src, i+1)
			}
		case '(', '[', '{':
			open()
		case '}':
			depth--
			if n := len(subst); n > 0 && depth == subst[n-1] {
				subst = subst[:n-1]
				i = template(i + 1)
			}
		case ')', ']':
			depth--
		}
	}
	return maxDepth
}

// regexpStarts reports whether a "/" after before starts a regular expression literal rather
// than a division: it does after an operator, an opening bracket, the start of the source or
// a keyword that takes an expression.
func regexpStarts(before string) bool {
	before = strings.TrimRight(before, " \t\r\n")
	if before == "" {
		return true
	}
	if c := before[len(before)-1]; strings.IndexByte("(,=:[!&|?{};+-*%<>~^", c) >= 0 {
		return true
	}
	end := len(before)
	start := end
	for start > 0 && (before[start-1] >= 'a' && before[start-1] <= 'z') {
		start--
	}
	switch before[start:end] {
	case "return", "typeof", "case", "in", "of", "delete", "void", "throw", "new", "instanceof", "yield", "await", "else", "do":
		return true
	}
	return false
}

// regexpEnd returns the index of the "/" closing a regular expression literal whose body
// starts at i (or of the line's end: a literal cannot span lines).
func regexpEnd(src string, i int) int {
	class := false
	for ; i < len(src) && src[i] != '\n'; i++ {
		switch src[i] {
		case '\\':
			i++
		case '[':
			class = true
		case ']':
			class = false
		case '/':
			if !class {
				return i
			}
		}
	}
	return i
}

// byteStringHelpers are the names of CloudFront Functions 1.0's byte-string helpers.
var byteStringHelpers = []string{"bytesFrom", "toBytes", "fromBytes", "toUTF8", "fromUTF8"}

// namesByteStrings reports whether src names one of the byte-string helpers: a script that does
// gets them all, and the others are spared their cost (9 KB, a seventh of a warm runtime: they
// read the String and Object globals and make eight closures). Runtime 1.0 has them at
// CloudFront, 2.0 has none; a 2.0 script that names one is code written for Verge's
// cloudfront-functions, which had them. A name built at run time is not seen: such code gets
// a TypeError, in 1.0 too.
func namesByteStrings(src string) bool {
	for _, name := range byteStringHelpers {
		if strings.Contains(src, name) {
			return true
		}
	}
	return false
}
