package edge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		avoid            string // must not be in the error: a field wrongly named
	}{
		{"unknown top-level field", "listen: 127.0.0.1:1\nlisten_addr: x\n", `bad.yaml:2: listen_addr: unknown field "listen_addr"`, "did you mean"},
		{"unknown origin field", "origins:\n  - id: a\n    url: http://x\n    timeout: 3s\n", `bad.yaml:4: origins[0].timeout: unknown field "timeout"`, ""},
		{"typo in a behavior's cache policy", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache:\n      max_tll: 5s\n", `bad.yaml:5: behaviors[0].cache.max_tll: unknown field "max_tll" (did you mean max_ttl?)`, ""},
		{"singular query_string", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache: {query_string: all}\n", `bad.yaml:4: behaviors[0].cache.query_string: unknown field "query_string" (did you mean query_strings?)`, ""},
		{"singular header", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache:\n      header: [Accept]\n", `bad.yaml:5: behaviors[0].cache.header: unknown field "header" (did you mean headers?)`, ""},
		{"typo in an association", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    functions:\n      viewer-request: {function: f, timout: 1s}\n", `bad.yaml:5: behaviors[0].functions.viewer-request.timout: unknown field "timout" (did you mean timeout?)`, ""},
		{"typo in the cluster block", "cluster:\n  secretkey: x\n", `bad.yaml:2: cluster.secretkey: unknown field "secretkey" (did you mean secret_key?)`, ""},
		{"typo in server", "server:\n  idle_timout: 5s\n", `bad.yaml:2: server.idle_timout: unknown field "idle_timout" (did you mean idle_timeout?)`, ""},
		{"typo in a function", "functions:\n  - name: f\n    file: f.js\n    isolaton: process\n", `bad.yaml:4: functions[0].isolaton: unknown field "isolaton" (did you mean isolation?)`, ""},
		{"typo through a merge key", "base: &b {id: a, url: http://x, max_con: 3}\norigins:\n  - <<: *b\n", `unknown field`, ""},
		{"unknown fleet profile", "origins: [{id: a, url: http://x}]\nbehaviors: [{path: \"*\"}]\ncluster:\n  profile: metro\n", `bad.yaml:4: cluster.profile: "metro": want lan, wan or local`, ""},
		{"a far-off name gets no suggestion", "cache:\n  colour: blue\n", `bad.yaml:2: cache.colour: unknown field "colour"`, "did you mean"},
		{"bad duration", "origins:\n  - id: a\n    url: http://x\n    read_timeout: soon\n", `bad.yaml:4: origins[0].read_timeout: invalid duration "soon"`, ""},
		{"duration too long to count", "origins:\n  - id: a\n    url: http://x\n    read_timeout: 1e10\n", `bad.yaml:4: origins[0].read_timeout: duration "1e10" is too long`, ""},
		{"bad duration in a flow mapping", "origins: [{id: a, url: http://x, connect_timeout: 1s, read_timeout: soon}]\n", `bad.yaml:1: origins[0].read_timeout: invalid duration "soon"`, ""},
		{"wrong type", "origins:\n  - id: a\n    url: http://x\n    max_conns: lots\n", "bad.yaml:4: origins[0].max_conns: cannot unmarshal !!str `lots`: want a whole number", ""},
		{"wrong type in a flow mapping", "origins: [{id: a, url: http://x, max_conns: lots}]\n", "bad.yaml:1: origins[0].max_conns: cannot unmarshal !!str `lots`", ""},
		{"wrong type, long value", "origins:\n  - id: a\n    max_conns: a-great-many\n", "bad.yaml:3: origins[0].max_conns: cannot unmarshal !!str `a-great...`", ""},
		{"bad size", "cache:\n  max_size: lots\n", `bad.yaml:2: cache.max_size: invalid size "lots"`, ""},
		{"worker idle too short", "server:\n  function_worker_idle: 500ms\norigins: [{id: a, url: http://x}]\nbehaviors: [{path: \"*\"}]\n", `server.function_worker_idle: 500ms: want at least 2s`, ""},
		{"no behaviors", "origins: [{id: a, url: http://x}]\n", "behaviors: at least the default behavior", ""},
		{"unknown origin", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    origin: b\n", `bad.yaml:4: behaviors[0].origin: unknown origin "b"`, ""},
		{"bad origin url", "origins:\n  - id: a\n    url: ftp://x\nbehaviors: [{path: \"*\"}]\n", `bad.yaml:3: origins[0].url: "ftp://x"`, ""},
		{"duplicate origin", "origins:\n  - {id: a, url: http://x}\n  - {id: a, url: http://y}\nbehaviors: [{path: \"*\", origin: a}]\n", `bad.yaml:3: origins[1].id: duplicate origin id "a"`, ""},
		{"default not last", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n  - path: /api/*\n", `bad.yaml:4: behaviors[1].path: the last behavior must be the default one`, ""},
		{"min above max", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache: {min_ttl: 10, max_ttl: 5}\n", "bad.yaml:4: behaviors[0].cache.min_ttl: min_ttl 10s is above max_ttl 5s", ""},
		{"min above max, block style", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache:\n      max_ttl: 5\n      min_ttl: 10\n", "bad.yaml:6: behaviors[0].cache.min_ttl: min_ttl 10s is above max_ttl 5s", ""},
		{"default outside the bounds", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache:\n      max_ttl: 5\n      default_ttl: 10\n", "bad.yaml:6: behaviors[0].cache.default_ttl: default_ttl 10s must lie within", ""},
		{"unknown event", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    functions: {viewer-req: f}\n", "bad.yaml:4: behaviors[0].functions.viewer-req: unknown event type", ""},
		{"unknown function", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    functions:\n      viewer-request: nope\n", `bad.yaml:5: behaviors[0].functions.viewer-request: unknown function "nope"`, ""},
		{"bad query mode", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    cache: {query_strings: some}\n", `bad.yaml:4: behaviors[0].cache.query_strings: query_strings "some"`, ""},
		{"bad origin_request headers", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    origin_request:\n      headers: some\n", `bad.yaml:5: behaviors[0].origin_request.headers: want all or a list of names`, ""},
		{"empty origin_request cookie", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    origin_request: {cookies: [\"\"]}\n", `bad.yaml:4: behaviors[0].origin_request.cookies: empty name`, ""},
		{"bad listen", "listen: 8080\n", `listen: address "8080": want HOST:PORT`, ""},
		{"bad runtime", "functions:\n  - name: f\n    file: f.js\n    runtime: python\n", `bad.yaml:4: functions[0].runtime: unknown runtime "python"`, ""},
		{"not yaml", "origins: [\n", "bad.yaml:", ""},
		{"a list written as a mapping", "origins:\n  id: a\n  url: http://x\n", "bad.yaml:2: origins: cannot unmarshal !!map: want a list", "edge."},
		{"behaviors written as a mapping", "behaviors:\n  path: \"*\"\n", "bad.yaml:2: behaviors: cannot unmarshal !!map", "edge."},
		{"the same wrong value twice on a line", "origins: [{id: lots, url: http://x, max_conns: lots}]\n", "bad.yaml:1: cannot unmarshal !!str `lots`: want a whole number", "origins[0].id"},
		{"a sequence where a string goes", "origins: [{id: a, url: [x]}]\n", "bad.yaml:1: cannot unmarshal !!seq: want a single value", "origins[0].id"},
		{"a repeated key", "origins: [{id: a, url: http://x, url: http://y}]\n", `bad.yaml:1: origins[0].url: mapping key "url" already defined`, ""},
		{"an alias to a bad value", "origins: [{id: a, url: &u http://x, read_timeout: *u}]\n", `bad.yaml:1: invalid duration "http://x"`, "origins[0].url"},
		{"a misspelt event name", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    functions:\n      viewer-requst: f\n", "bad.yaml:5: behaviors[0].functions.viewer-requst: unknown event type (did you mean viewer-request?)", ""},
		{"an unknown event name", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    functions:\n      on-miss: f\n", "bad.yaml:5: behaviors[0].functions.on-miss: unknown event type (want viewer-request, origin-request, origin-response or viewer-response)", "did you mean"},
		{"a dotted event name", "origins: [{id: a, url: http://x}]\nbehaviors:\n  - path: \"*\"\n    functions:\n      viewer.request: f\n", "bad.yaml:5: behaviors[0].functions.viewer.request: unknown event type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig("bad.yaml", []byte(tt.yaml))
			if err == nil {
				if _, err = buildPipeline(cfg, newTestRegistry(), nil); err == nil {
					t.Fatalf("accepted:\n%s", tt.yaml)
				}
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tt.want)
			}
			if tt.avoid != "" && strings.Contains(err.Error(), tt.avoid) {
				t.Fatalf("error %q\nnames %s, which is not at fault", err, tt.avoid)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("ok.yaml", []byte("origins: [{id: a, url: http://127.0.0.1:9}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Behaviors[0]
	if cfg.Listen != "127.0.0.1:8080" || cfg.Admin != "127.0.0.1:8081" || b.Origin != "a" ||
		b.Cache.MaxTTL.Std() != 365*24*time.Hour || b.Cache.MinTTL != 0 || b.Cache.DefaultTTL != 0 ||
		cfg.Cache.MaxSize != 256<<20 {
		t.Fatalf("defaults: %+v / %+v", cfg, b)
	}
	if cfg.Server.GCPercent != 400 || cfg.Server.MemoryLimit != 2*256<<20+512<<20 || cfg.Server.MaxFunctionVersions != 1024 ||
		cfg.Server.MaxFunctionWorkers != 8*runtime.GOMAXPROCS(0) || cfg.Server.FunctionWorkerIdle.Std() != 15*time.Minute {
		t.Fatalf("server defaults: gc_percent %d, memory_limit %d, max_function_versions %d, max_function_workers %d, function_worker_idle %v",
			cfg.Server.GCPercent, cfg.Server.MemoryLimit, cfg.Server.MaxFunctionVersions, cfg.Server.MaxFunctionWorkers, cfg.Server.FunctionWorkerIdle.Std())
	}
	cfg, err = ParseConfig("gc.yaml", []byte("cache: {max_size: 1GiB}\nserver: {gc_percent: -1, max_function_versions: 1200, max_function_workers: 8, function_worker_idle: 90s}\n"+
		"origins: [{id: a, url: http://127.0.0.1:9}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.GCPercent != -1 || cfg.Server.MemoryLimit != 2<<30+512<<20 || cfg.Server.MaxFunctionVersions != 1200 ||
		cfg.Server.MaxFunctionWorkers != 8 || cfg.Server.FunctionWorkerIdle.Std() != 90*time.Second {
		t.Fatalf("server settings: gc_percent %d, memory_limit %d, max_function_versions %d, max_function_workers %d, function_worker_idle %v",
			cfg.Server.GCPercent, cfg.Server.MemoryLimit, cfg.Server.MaxFunctionVersions, cfg.Server.MaxFunctionWorkers, cfg.Server.FunctionWorkerIdle.Std())
	}
}

// TestExampleConfigs parses every file in configs/ and builds its pipeline: the examples the
// README points to must run.
func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no example configurations in configs/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := LoadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Functions) > 0 {
				for _, fc := range cfg.Functions {
					if _, err := os.Stat(filepath.Join(filepath.Dir(f), fc.File)); err != nil {
						t.Errorf("function file: %v", err)
					}
				}
				return // loading JS needs the binary's loader; cmd/verge tests run them
			}
			p, err := buildPipeline(cfg, newTestRegistry(), nil)
			if err != nil {
				t.Fatal(err)
			}
			p.close()
		})
	}
}

// FuzzParseConfig: any input is parsed or refused with a "config: " error naming the file,
// never a panic.
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("../configs/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("origins: [{id: a, url: http://x, max_conns: lots}]\n"))
	f.Add([]byte("origins:\n  - id: a\n    read_timeout: soon\nbehaviors:\n  - path: \"*\"\n    cache: {min_ttl: 10, max_ttl: 5}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseConfig("fuzz.yaml", data)
		if err == nil {
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "config: ") {
			t.Fatalf("error without the config prefix: %q", msg)
		}
		if !strings.Contains(msg, "fuzz.yaml") {
			t.Fatalf("error without the file: %q", msg)
		}
	})
}

// Every path written in a configuration file is relative to that file, not to the directory the
// node was started from; flags and absolute paths are left alone.
func TestConfigPathsRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "conf", "edge.yaml")
	abs := filepath.Join(dir, "abs.log")
	tests := []struct {
		name, yaml, data, accessLog string
	}{
		{"relative", "data: ./state\naccess_log: logs/access.log\n", filepath.Join(dir, "conf", "state"), filepath.Join(dir, "conf", "logs", "access.log")},
		{"absolute", "data: " + dir + "\naccess_log: " + abs + "\n", dir, abs},
		{"streams are not paths; the default data is the shell's", "access_log: stderr\n", "./data", "stderr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(file, []byte(tt.yaml+"origins: [{id: a, url: http://127.0.0.1:9}]\nbehaviors: [{path: \"*\"}]\n"))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Data != tt.data {
				t.Errorf("data = %q, want %q", cfg.Data, tt.data)
			}
			if cfg.AccessLog != tt.accessLog {
				t.Errorf("access_log = %q, want %q", cfg.AccessLog, tt.accessLog)
			}
		})
	}
}

// TestQuickStartFile: configs/quickstart.yaml, which says it is what `verge serve --origin`
// runs, is QuickStart's configuration.
func TestQuickStartFile(t *testing.T) {
	file, err := LoadConfig("../configs/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The file's data: ./data is resolved against the file's directory.
	quick, err := QuickStart("http://127.0.0.1:9000", "127.0.0.1:8080", "127.0.0.1:8081", file.Data)
	if err != nil {
		t.Fatal(err)
	}
	// As JSON: the exported settings, through pointers, without the parser's bookkeeping.
	a, errA := json.Marshal(file)
	b, errB := json.Marshal(quick)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if string(a) != string(b) {
		t.Fatalf("configs/quickstart.yaml:\n%s\nQuickStart:\n%s", a, b)
	}
}
