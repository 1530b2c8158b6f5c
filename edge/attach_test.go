package edge

import (
	"context"
	"testing"

	"github.com/vergecdn/verge/hooks"
)

func addHeader(name, value string) hooks.Function {
	return hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		r := ev.Response.Clone()
		r.Headers.Set(name, value)
		return hooks.Result{Response: r}, nil
	})
}

func TestSetAttachments(t *testing.T) {
	o := staticOrigin(t, "x", "Cache-Control", "max-age=60")
	n := startNode(t, `
origins: [{id: o, url: ORIGIN}]
behaviors:
  - {path: /api/*, functions: {viewer-response: cfg}}
  - {path: "*"}
`, o.URL, map[string]hooks.Function{"cfg": addHeader("X-Fn", "config")})
	check := func(path, want string) {
		t.Helper()
		if got := n.get(t, path).Header.Get("X-Fn"); got != want {
			t.Fatalf("%s: X-Fn %q, want %q", path, got, want)
		}
	}
	check("/api/a", "config")
	check("/page", "")

	v1 := &Attachment{Name: "api-fn", Version: "1", Function: addHeader("X-Fn", "v1")}
	n.SetAttachments(Attachments{"/api/*": {hooks.ViewerResponse: v1}, "default": {hooks.ViewerResponse: v1}})
	check("/api/a", "v1")
	check("/page", "v1")

	// A reload keeps run-time attachments; clearing them brings the configuration's back.
	cfg, err := ParseConfig("r.yaml", []byte("origins: [{id: o, url: "+o.URL+"}]\nbehaviors:\n  - {path: /api/*, functions: {viewer-response: cfg}}\n  - {path: \"*\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	check("/api/a", "v1")
	n.SetAttachments(nil)
	check("/api/a", "config")
	check("/page", "")
	if got := n.Behaviors(); len(got) != 2 || got[0] != "/api/*" || got[1] != "*" {
		t.Fatalf("Behaviors() = %v", got)
	}
}
