// Package hooks is the seam between Verge's request pipeline and any function runtime.
//
// It holds the neutral request/response model handed to functions (ordered, multi-valued headers
// that keep their original case), the Function interface every runtime implements (Go functions,
// the goja runtime, any future one), Go functions registered by name, and the validation of what a
// function returns, with CloudFront's rules and error statuses (see docs/hooks.md).
package hooks

import "fmt"

// Stage is one of the four points of the request flow where a function can run.
type Stage uint8

// The four stages, in the order a request meets them.
const (
	ViewerRequest Stage = iota
	OriginRequest
	OriginResponse
	ViewerResponse
	numStages
)

// Stages lists every stage in request-flow order.
var Stages = [...]Stage{ViewerRequest, OriginRequest, OriginResponse, ViewerResponse}

var stageNames = [numStages]string{"viewer-request", "origin-request", "origin-response", "viewer-response"}

// String returns CloudFront's event type name, e.g. "viewer-request".
func (s Stage) String() string {
	if s < numStages {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// ParseStage parses CloudFront's event type name.
func ParseStage(name string) (Stage, error) {
	for i, n := range stageNames {
		if n == name {
			return Stage(i), nil
		}
	}
	return 0, fmt.Errorf("hooks: unknown event type %q (want viewer-request, origin-request, origin-response or viewer-response)", name)
}

// IsRequest reports whether the stage sees a request only (and may answer it).
func (s Stage) IsRequest() bool { return s == ViewerRequest || s == OriginRequest }

// IsViewer reports whether the stage faces the viewer (viewer limits apply).
func (s Stage) IsViewer() bool { return s == ViewerRequest || s == ViewerResponse }
