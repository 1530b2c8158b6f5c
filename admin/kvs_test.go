package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// TestKVSRoutes drives the KeyValueStore routes: every bad input gets its status and a
// message that says what is wrong, and a refused change changes nothing.
func TestKVSRoutes(t *testing.T) {
	reg, err := registry.Open(registry.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	act, err := deploy.New(deploy.Options{Registry: reg, InProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	defer act.Close()
	stores, err := kvs.Open(t.TempDir(), kvs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	h, err := admin.New(admin.Options{Registry: reg, Activator: act, KVS: stores})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/kvs/site", `{"data":[{"key":"a/b","value":"1"}]}`, 201, `"keyCount": 1`},
		{"POST", "/v1/kvs/site", ``, 409, "already exists"},
		{"POST", "/v1/kvs/bad.name", ``, 400, "store name"},
		{"POST", "/v1/kvs/other", `{"data":[{"key":"a"}]}`, 400, "data[0] needs a string key and value"},
		{"POST", "/v1/kvs/other", `{"data":[{"key":"a","value":"` + strings.Repeat("x", 1025) + `"}]}`, 413, "over the limit of 1024"},
		{"PUT", "/v1/kvs/site/keys/big", strings.Repeat("x", 1025), 413, "over the limit of 1024"},
		{"PUT", "/v1/kvs/site/keys/" + strings.Repeat("k", 513), "v", 413, "over the limit of 512"},
		{"PUT", "/v1/kvs/nostore/keys/k", "v", 404, "not found"},
		{"PUT", "/v1/kvs/site/keys/c", "3", 200, `"keyCount": 2`},
		{"GET", "/v1/kvs/site/keys/a/b", ``, 200, `"value": "1"`},
		{"GET", "/v1/kvs/site/keys/zz", ``, 404, "not found"},
		{"POST", "/v1/kvs/site/import", `{"data":[{"key":"d","value":"4"}]}`, 200, `"keyCount": 3`},
		{"DELETE", "/v1/kvs/site/keys/d", ``, 200, `"keyCount": 2`},
		{"DELETE", "/v1/kvs/site/keys/d", ``, 404, "not found"},
		{"GET", "/v1/kvs/site", ``, 200, `"name": "site"`},
	} {
		status, body := call(tt.method, tt.path, tt.body)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s %.60s: %d %.200s; want %d %q", tt.method, tt.path, status, body, tt.status, tt.want)
		}
	}
	status, body := call("GET", "/v1/kvs/site/keys", "")
	var items struct{ Data []struct{ Key, Value string } }
	if status != 200 || json.Unmarshal([]byte(body), &items) != nil || len(items.Data) != 2 || items.Data[0].Key != "a/b" || items.Data[1].Value != "3" {
		t.Fatalf("items: %d %s", status, body)
	}
	status, body = call("GET", "/v1/kvs", "")
	if status != 200 || !strings.Contains(body, `"site"`) || strings.Contains(body, `"other"`) {
		t.Fatalf("list: %d %s", status, body)
	}
}
