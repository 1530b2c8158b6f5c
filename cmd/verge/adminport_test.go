package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/cluster"
)

// attack is one request sent to a node's admin port and the status it must get.
type attack struct {
	name, method, path, body string
	header                   map[string]string // "Host" sets the request's Host
	want                     int
}

func (a attack) send(t *testing.T, admin string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(a.method, "http://"+admin+a.path, strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range a.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", a.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func runAttacks(t *testing.T, admin string, attacks []attack) {
	t.Helper()
	for _, a := range attacks {
		if got, body := a.send(t, admin); got != a.want {
			t.Errorf("%s: %s %s answered %d, want %d: %s", a.name, a.method, a.path, got, a.want, strings.TrimSpace(body))
		}
	}
}

// TestAdminPortRefusesBrowsers: with no token configured, a web page the operator visits must
// not drive the admin port, neither by a cross-site request (CSRF) nor by rebinding its own
// name to 127.0.0.1 (DNS rebinding). The cache stays full through every attack; the CLI,
// which sends no Origin and no simple Content-Type, still purges.
func TestAdminPortRefusesBrowsers(t *testing.T) {
	origin := httpOriginCached(t)
	listen, admin := freeAddr(t), freeAddr(t)
	p := startVerge(t, "serve", "--origin", origin, "--listen", listen, "--admin", admin, "--data", t.TempDir())
	get(t, "http://"+listen+"/x")
	if r, _ := get(t, "http://"+listen+"/x"); r.Header.Get("X-Cache") != "Hit from verge" {
		t.Fatalf("/x not cached: %q", r.Header.Get("X-Cache"))
	}
	port := admin[strings.LastIndex(admin, ":"):]
	purge := `{"pattern":"all"}`
	runAttacks(t, admin, []attack{
		{"cross-site text/plain purge", "POST", "/v1/cache/purge", purge,
			map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"text/plain purge without Origin", "POST", "/v1/cache/purge", purge, map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, 403},
		{"form purge", "POST", "/v1/cache/purge", purge, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"multipart purge", "POST", "/v1/cache/purge", purge, map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 403},
		{"same-site JSON purge", "POST", "/v1/cache/purge", purge, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403},
		{"JSON purge from a null origin", "POST", "/v1/cache/purge", purge, map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{"cross-site publish", "POST", "/v1/functions/f/versions", "", map[string]string{"Origin": "http://evil.example"}, 403},
		{"cross-site read", "GET", "/v1/functions", "", map[string]string{"Origin": "https://evil.example"}, 403},
		{"rebound read", "GET", "/v1/functions", "", map[string]string{"Host": "evil.example" + port}, 421},
		{"rebound purge", "POST", "/v1/cache/purge", purge, map[string]string{"Host": "evil.example" + port, "Content-Type": "application/json"}, 421},
		{"rebound metrics", "GET", "/metrics", "", map[string]string{"Host": "evil.example" + port}, 421},
		{"rebound unknown route", "GET", "/v1/nope", "", map[string]string{"Host": "evil.example"}, 421},
		{"rebound profiler", "GET", "/debug/pprof/", "", map[string]string{"Host": "evil.example"}, 421},
		{"healthz under any name", "GET", "/healthz", "", map[string]string{"Host": "evil.example"}, 200},
		{"readyz under any name", "GET", "/readyz", "", map[string]string{"Host": "evil.example"}, 200},
		{"localhost", "GET", "/v1/functions", "", map[string]string{"Host": "localhost" + port}, 200},
		{"loopback IP", "GET", "/v1/functions", "", map[string]string{"Host": "127.0.0.1" + port}, 200},
		{"loopback page", "GET", "/v1/functions", "", map[string]string{"Origin": "http://localhost:3000"}, 200},
	})
	if r, _ := get(t, "http://"+listen+"/x"); r.Header.Get("X-Cache") != "Hit from verge" {
		t.Fatalf("an attack purged the cache: /x is %q", r.Header.Get("X-Cache"))
	}
	if out, err := exec.Command(verge, "cache", "purge", "/x", "--admin", "http://"+admin).CombinedOutput(); err != nil || !strings.Contains(string(out), "purged /x: 1 object on") {
		t.Fatalf("the CLI's purge: %v\n%s", err, out)
	}
	if r, _ := get(t, "http://"+listen+"/x"); r.Header.Get("X-Cache") != "Miss from verge" {
		t.Fatalf("the CLI's purge did not purge: /x is %q", r.Header.Get("X-Cache"))
	}
	p.stop(t, syscall.SIGTERM)
}

// TestAdminTokensCoverEveryRoute: with tokens configured, every route of the admin port needs
// one, the fleet's routes included, /metrics too with metrics_auth; the fleet credential
// opens the blob route and nothing else; /healthz and /readyz stay open.
func TestAdminTokensCoverEveryRoute(t *testing.T) {
	origin := httpOriginCached(t)
	dir := t.TempDir()
	listen, admin, gossip := freeAddr(t), freeAddr(t), freeAddr(t)
	key := "dmVyZ2UtdGVzdC1rZXkxMg=="
	cfg := filepath.Join(dir, "edge.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: %s
admin: %s
data: %s
admin_tokens: [ci=s3cret]
metrics_auth: true
origins: [{id: o, url: %s}]
behaviors: [{path: "*"}]
cluster: {gossip: %s, secret_key: %q}
`, listen, admin, filepath.Join(dir, "data"), origin, gossip, key)), 0o644)
	p := startVerge(t, "serve", "--config", cfg)
	fleetTok, err := cluster.FleetToken(key)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string, h map[string]string) map[string]string {
		if h == nil {
			h = map[string]string{}
		}
		h["Authorization"] = "Bearer " + tok
		return h
	}
	blob := "/v1/blobs/" + strings.Repeat("0", 64)
	json := map[string]string{"Content-Type": "application/json"}
	runAttacks(t, admin, []attack{
		{"members without a token", "GET", "/v1/cluster/members", "", nil, 401},
		{"blob without a token", "GET", blob, "", nil, 401},
		{"purge without a token", "POST", "/v1/cache/purge", `{"pattern":"all"}`, json, 401},
		{"metrics without a token", "GET", "/metrics", "", nil, 401},
		{"profiler without a token", "GET", "/debug/pprof/", "", nil, 401},
		{"unknown route without a token", "GET", "/v1/nope", "", nil, 401},
		{"deploy status without a token", "GET", "/v1/deploy/status", "", nil, 401},
		{"wrong token", "GET", "/v1/functions", "", bearer("s3cre", nil), 401},
		{"fleet credential on members", "GET", "/v1/cluster/members", "", bearer(fleetTok, nil), 401},
		{"fleet credential on purge", "POST", "/v1/cache/purge", `{"pattern":"all"}`, bearer(fleetTok, map[string]string{"Content-Type": "application/json"}), 401},
		{"fleet credential on functions", "GET", "/v1/functions", "", bearer(fleetTok, nil), 401},
		{"fleet credential on a blob", "GET", blob, "", bearer(fleetTok, nil), 404},
		{"token on a blob", "GET", blob, "", bearer("s3cret", nil), 404},
		{"token on members", "GET", "/v1/cluster/members", "", bearer("s3cret", nil), 200},
		{"token on deploy status", "GET", "/v1/deploy/status", "", bearer("s3cret", nil), 200},
		{"token on metrics (Prometheus' bearer)", "GET", "/metrics", "", bearer("s3cret", nil), 200},
		{"token, rebound", "GET", "/v1/functions", "", bearer("s3cret", map[string]string{"Host": "evil.example"}), 421},
		{"token, cross-site", "POST", "/v1/cache/purge", `{"pattern":"all"}`, bearer("s3cret", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"}), 403},
		{"healthz", "GET", "/healthz", "", nil, 200},
		{"readyz", "GET", "/readyz", "", nil, 200},
	})
	p.stop(t, syscall.SIGTERM)
}

// httpOriginCached is an origin whose pages are cacheable for five minutes.
func httpOriginCached(t *testing.T) string {
	return httpOriginFunc(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		io.WriteString(w, "page")
	})
}

// TestMetricsAuthNeedsAToken: metrics_auth without an admin token would lock /metrics to no
// one: refused at start, naming what to add.
func TestMetricsAuthNeedsAToken(t *testing.T) {
	cfg, lc := soloLifecycle(t)
	cfg.MetricsAuth = true
	if _, err := adminGuard(cfg, lc, &fleet{}); err == nil || !strings.Contains(err.Error(), "admin_tokens") {
		t.Fatalf("metrics_auth with no token: %v", err)
	}
}
