package jsruntime_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/vergecdn/verge/jsruntime"
)

// TestRequireResolves: require finds a package's files as Node does (a file with or without
// .js, JSON, a directory's package.json main or index.js, node_modules up the tree, built-ins
// before node_modules), runs each once per runtime (a cycle sees the exports so far), and a
// missing module is Node's "Cannot find module" error with code MODULE_NOT_FOUND.
func TestRequireResolves(t *testing.T) {
	files := map[string]string{
		"index.js": `const lib = require('./lib/a');
const again = require('./lib/a.js');
exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  r.headers['x-v'] = [{ key: 'x-v', value: [lib.name, lib === again, lib.cycle, require('./data.json').n,
    require('pkg').v, require('dirpkg').v, require('path').sep, require('./lib/c').missing].join() }];
  return r;
};`,
		"lib/a.js":                      `exports.name = 'a'; exports.cycle = require('./b').seen;`,
		"lib/b.js":                      `exports.seen = require('./a').name;`,
		"lib/c.js":                      `try { require('./nope') } catch (e) { exports.missing = e.code + '|' + e + '|' + e.requireStack.join() }`,
		"data.json":                     `{"n": 7}`,
		"node_modules/pkg/package.json": `{"main": "main.js"}`,
		"node_modules/pkg/main.js":      `exports.v = 'pkg';`,
		"node_modules/dirpkg/index.js":  `exports.v = 'dirpkg';`,
		"node_modules/path/index.js":    `exports.sep = 'shadowed';`,
	}
	f, err := jsruntime.New(jsruntime.Options{Name: "t", Code: jsruntime.Code{Files: files}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Node's message, code and require stack, as for the same files in /var/task.
	want := "a,true,a,7,pkg,dirpkg,/,MODULE_NOT_FOUND|Error: Cannot find module './nope'\nRequire stack:\n- /var/task/lib/c.js\n- /var/task/index.js|/var/task/lib/c.js,/var/task/index.js"
	if got := res.Request.Headers.Get("x-v"); got != want {
		t.Fatalf("x-v = %q, want %q", got, want)
	}
}

// TestRequireAsNode: what Node 20 does with the same package in /var/task (each expected
// line was printed by node running the same index.js there): a final slash means a
// directory, a JSON file may start with a BOM, an empty or non-string id and an unreadable
// package.json are Node's errors, and a package's "exports" (conditions in the file's order,
// subpath patterns) decide what its name and subpaths load.
func TestRequireAsNode(t *testing.T) {
	files := map[string]string{
		"index.js": `const t = (f) => { try { return JSON.stringify(f()) } catch (e) { return 'THROW ' + e.name + ' ' + (e.code || '') + ' ' + e.message.split('\n')[0].split(': ').slice(0, 1).join() } };
exports.handler = async (e) => {
  const out = [
    'bom ' + t(() => require('./bom.json')),
    'slash ' + t(() => require('./lib/').v),
    'noslash ' + t(() => require('./lib').v),
    'empty ' + t(() => require('')),
    'num ' + t(() => require(1)),
    'bad ' + t(() => require('bad').v),
    'ex ' + t(() => require('ex').v),
    'exfeat ' + t(() => require('ex/feature').v),
    'exutils ' + t(() => require('ex/utils/a').v),
    'exindex ' + t(() => require('ex/index.js').v),
    'exs ' + t(() => require('exs').v),
    'expkg ' + t(() => require('ex/package.json').main),
    'again ' + t(() => require('ex') === require('ex')),
    'exdots ' + t(() => require('ex/utils/../cjs').v),
  ];
  return { status: '200', body: out.join('\n') };
};`,
		"bom.json":                      "\ufeff{\"n\": 1}",
		"lib/index.js":                  `exports.v = "libindex"`,
		"lib.js":                        `exports.v = "libjs"`,
		"node_modules/bad/package.json": `{"main": `,
		"node_modules/bad/index.js":     `exports.v = "bad"`,
		"node_modules/ex/package.json":  `{"main": "index.js", "exports": {".": {"import": "./esm.mjs", "require": "./cjs.js"}, "./feature": {"node": "./feat-node.js", "default": "./feat.js"}, "./utils/*": "./sub/*.js", "./package.json": "./package.json"}}`,
		"node_modules/ex/index.js":      `exports.v = "ex-index"`,
		"node_modules/ex/cjs.js":        `exports.v = "ex-cjs"`,
		"node_modules/ex/feat-node.js":  `exports.v = "feat-node"`,
		"node_modules/ex/feat.js":       `exports.v = "feat"`,
		"node_modules/ex/sub/a.js":      `exports.v = "sub-a"`,
		"node_modules/exs/package.json": `{"exports": "./x.js"}`,
		"node_modules/exs/x.js":         `exports.v = "exs-x"`,
		"node_modules/exs/index.js":     `exports.v = "exs-index"`,
	}
	want := strings.Join([]string{
		`bom {"n":1}`,
		`slash "libindex"`,
		`noslash "libjs"`,
		`empty THROW TypeError ERR_INVALID_ARG_VALUE The argument 'id' must be a non-empty string. Received ''`,
		`num THROW TypeError ERR_INVALID_ARG_TYPE The "id" argument must be of type string. Received type number (1)`,
		`bad THROW SyntaxError  Error parsing /var/task/node_modules/bad/package.json`,
		`ex "ex-cjs"`,
		`exfeat "feat-node"`,
		`exutils "sub-a"`,
		`exindex THROW Error ERR_PACKAGE_PATH_NOT_EXPORTED Package subpath './index.js' is not defined by "exports" in /var/task/node_modules/ex/package.json`,
		`exs "exs-x"`,
		`expkg "index.js"`,
		`again true`,
		`exdots THROW TypeError ERR_INVALID_MODULE_SPECIFIER Invalid module "./utils/../cjs" request is not a valid match in pattern "./utils/*" for the "exports" resolution of /var/task/node_modules/ex/package.json`,
	}, "\n")
	f, err := jsruntime.New(jsruntime.Options{Name: "t", Code: jsruntime.Code{Files: files}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for range 2 { // the second call resolves from the runtime's cache
		res, err := f.Invoke(context.Background(), loadEvent(t, "lambda-edge-viewer-request.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.Response.Body); got != want {
			t.Fatalf("got\n%s\nwant (Node's)\n%s", got, want)
		}
	}
}

// TestRequireMishaps: source that closes the module wrapper is Node's SyntaxError at its
// brace (it used to load and then fail every call); a file nothing requires need not parse,
// and one required inside the handler fails that call with its SyntaxError; a module loaded
// again after it failed, whose require stack then loops, still gets "Cannot find module".
func TestRequireMishaps(t *testing.T) {
	for _, tt := range []struct {
		name, src, want string
	}{
		{"closed on line 1", "}); 42; ({\n", "index.js:1:1: Unexpected token '}'"},
		{"closed on line 2", "exports.handler = async () => null;\n}); globalThis.x = 1; ({\n", "index.js:2:1: Unexpected token '}'"},
	} {
		_, err := jsruntime.New(jsruntime.Options{Name: "t", Code: jsruntime.Code{Files: map[string]string{"index.js": tt.src}}})
		var se *jsruntime.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a SyntaxError at %s (Node's)", tt.name, err, tt.want)
		}
	}
	files := map[string]string{
		"index.js": `try { require('./x') } catch (e) {}
exports.handler = async (e) => {
  const uri = e.Records[0].cf.request.uri;
  if (uri === '/lazy') require('./lib/bad');
  let msg = '';
  try { require('./y').loadX() } catch (err) { msg = err.code + ' ' + err.message.split('\n')[0] }
  return { status: '200', body: msg };
};`,
		"x.js":                         "require('./y'); if (globalThis.second) require('./missing'); globalThis.second = true; throw Error('first load');",
		"y.js":                         "exports.loadX = () => require('./x');",
		"lib/bad.js":                   "exports.v = (;",
		"node_modules/dep/test/jsx.js": "const a = <div/>;",
	}
	f, err := jsruntime.New(jsruntime.Options{Name: "t", Code: jsruntime.Code{Files: files}})
	if err != nil {
		t.Fatalf("a package whose unrequired files do not parse: %v", err)
	}
	defer f.Close()
	ev := loadEvent(t, "lambda-edge-viewer-request.json")
	res, err := f.Invoke(context.Background(), ev)
	if err != nil || string(res.Response.Body) != "MODULE_NOT_FOUND Cannot find module './missing'" {
		t.Fatalf("the looping require stack: %+v, %v", res.Response, err)
	}
	ev.Request.URI = "/lazy"
	if _, err := f.Invoke(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "bad.js:1:14") {
		t.Fatalf("a required file that does not parse: %v, want its SyntaxError at bad.js:1:14", err)
	}
}

// TestCFFBadInlineSourceMap: a CloudFront function whose inline source map names no source
// is ignored, as a module's is: goja's own reading of it panicked on every error's stack.
func TestCFFBadInlineSourceMap(t *testing.T) {
	m := base64.StdEncoding.EncodeToString([]byte(`{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA,ECAA;AACA"}`))
	src := "function handler(event) { event.request.headers['x-s'] = { value: String(new Error('e').stack).split('\\n')[0] }; return event.request; }\n//# sourceMappingURL=data:application/json;base64," + m + "\n"
	if got := cffRequestHeader(t, jsruntime.RuntimeCloudFrontJS2, src, "x-s"); got != "Error: e" {
		t.Fatalf("x-s = %q", got)
	}
}
