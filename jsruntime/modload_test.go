package jsruntime_test

import (
	"context"
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
