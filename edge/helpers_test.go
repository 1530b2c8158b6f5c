package edge

import (
	"context"

	"github.com/vergecdn/verge/hooks"
)

// newTestRegistry has pass-through Go functions under the names the example configurations use.
func newTestRegistry() *hooks.GoRegistry {
	r := hooks.NewGoRegistry()
	pass := hooks.GoFunc(func(_ context.Context, ev *hooks.Event) (hooks.Result, error) {
		if ev.Stage.IsRequest() {
			return hooks.Result{Request: ev.Request.Clone()}, nil
		}
		return hooks.Result{Response: ev.Response.Clone()}, nil
	})
	for _, n := range []string{"security-headers", "redirect-old"} {
		_ = r.Register(n, pass)
	}
	return r
}
