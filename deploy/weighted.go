package deploy

import (
	"context"

	"github.com/vergecdn/verge/hooks"
)

// weighted runs additional with probability weight and primary otherwise: a weighted alias
// (Lambda's RoutingConfig). Each invocation picks independently; a request's stages may
// therefore run different versions. Safe for concurrent use if rand is. Both versions stop
// themselves at their deadline (they are running versions), so the pair is SelfTimed and
// the edge arms no timer per call for it.
type weighted struct {
	primary, additional hooks.Function
	weight              float64
	rand                func() float64
}

var _ hooks.SelfTimed = (*weighted)(nil)

// Invoke runs one of the two versions on ev.
func (w *weighted) Invoke(ctx context.Context, ev *hooks.Event) (hooks.Result, error) {
	if w.rand() < w.weight {
		return w.additional.Invoke(ctx, ev)
	}
	return w.primary.Invoke(ctx, ev)
}

// StopsAtDeadline: both versions do.
func (w *weighted) StopsAtDeadline() {}
