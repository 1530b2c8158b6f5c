package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/origin"
)

// event starts the event of one stage for the request in ctx.
// All the events of one request share its request id, as CloudFront's do.
func (s *Server) event(st *reqState, stage hooks.Stage, req *hooks.Request) *hooks.Event {
	return s.eventInto(&hooks.Event{}, st, stage, req)
}

// eventInto is event into ev.
func (s *Server) eventInto(ev *hooks.Event, st *reqState, stage hooks.Stage, req *hooks.Request) *hooks.Event {
	cfg := s.cfg()
	if st.id == "" {
		st.id = s.requestID()
	}
	*ev = hooks.Event{
		Stage: stage,
		Config: hooks.Config{
			DistributionDomainName: cfg.Name,
			DistributionID:         cfg.Name,
			RequestID:              st.id,
		},
		Request: req,
	}
	return ev
}

// invoke runs a function under its time limit and validates what it returned. A panic in a Go
// function is an execution error, never a crash of the node.
//
// The context is not the fasthttp.RequestCtx: that one is recycled when the handler returns and
// is cancelled when the server shuts down, and requests in flight must finish then.
func (s *Server) invoke(b *binding, ev *hooks.Event) (res hooks.Result, err error) {
	var ictx context.Context
	if b.selfTimed {
		ictx = hooks.WithDeadline(context.Background(), time.Now().Add(b.limits.Timeout))
	} else {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(context.Background(), b.limits.Timeout)
		defer cancel()
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = hooks.Errorf(hooks.Execution, "panic: %v", r)
			}
		}()
		res, err = b.fn.Invoke(ictx, ev)
	}()
	if ictx.Err() != nil && (err == nil || hooks.KindOf(err) == hooks.Execution) {
		// Out of time, whether the function noticed (returning ctx.Err()) or not.
		err = hooks.Errorf(hooks.Timeout, "ran past its %v time limit", b.limits.Timeout)
	}
	if err == nil {
		err = hooks.Validate(b.dialect, ev, res, b.limits)
	}
	if err == nil {
		b.succeeded(s.metrics.invocations, ev.Stage)
		return res, nil
	}
	s.metrics.invocations.With(b.name, b.version, ev.Stage.String(), hooks.KindOf(err).String()).Inc()
	s.reportFailure(b, ev, err)
	return res, err
}

// reportFailure logs a function's failure and files it in the function's log (`verge fn
// logs`): one that invoke found, or one found in its result afterwards (an origin it chose
// that does not exist).
func (s *Server) reportFailure(b *binding, ev *hooks.Event, err error) {
	kind := hooks.KindOf(err)
	s.log.Warn("function failed", "function", b.name, "version", b.version, "event", ev.Stage.String(),
		"outcome", kind.String(), "result_type", b.dialect.ResultType(kind), "request_id", ev.Config.RequestID,
		"error", err.Error())
	if sink := s.deps.FunctionErrors; sink != nil {
		sink.FunctionFailed(b.name, b.version, ev.Config.RequestID, ev.Stage, kind, err)
	}
}

// failFunction answers the viewer after a function failed, with CloudFront's status and words.
func (s *Server) failFunction(ctx *fasthttp.RequestCtx, b *binding, err error) outcome {
	k := hooks.KindOf(err)
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(k.Status())
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	msg := "The Lambda function associated with the CloudFront distribution is invalid or doesn't have the required permissions."
	switch {
	case k == hooks.Validation:
		msg = "The Lambda function result failed validation: " + validationReason(err)
	case k == hooks.Timeout || k == hooks.Throttled:
		msg = "The Lambda function associated with the CloudFront distribution exceeded its limits."
	}
	if b.dialect == hooks.CloudFrontFunctions {
		msg = "The CloudFront function associated with the CloudFront distribution is invalid or could not run."
	}
	ctx.Response.SetBodyString(fmt.Sprintf("%d %s\n%s\n", k.Status(), http.StatusText(k.Status()), msg))
	return failureOutcome(b.dialect, k)
}

// validationReason is the message of a validation error without the "function validation:"
// prefix of hooks.Error.
func validationReason(err error) string {
	var he *hooks.Error
	if errors.As(err, &he) && he.Err != nil {
		return he.Err.Error()
	}
	return err.Error()
}

// fail answers the viewer after the miss path failed: a function (see failFunction) or the
// origin (502/504 with the reason). Nothing is cached.
func (s *Server) fail(ctx *fasthttp.RequestCtx, err error) outcome {
	var fe *functionError
	if errors.As(err, &fe) {
		return s.failFunction(ctx, fe.bind, fe.err)
	}
	status, reason := s.originFailed(ctx, err, 0)
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	// The viewer learns what went wrong, not where: origin addresses stay in the log.
	ctx.Response.SetBodyString(fmt.Sprintf("%d %s\nThe origin failed to answer (%s).\n", status, fasthttp.StatusMessage(status), reason))
	return outError
}

// originFailed counts and logs an origin failure, once per collapsed flight (by its leader),
// and returns the status and reason the viewer is told. stale is the status of the stale
// object that answers instead (0: none), which the log line gives as the viewer's.
func (s *Server) originFailed(ctx *fasthttp.RequestCtx, err error, stale int) (status int, reason string) {
	var shared *sharedError
	leader := !errors.As(err, &shared)
	status, reason = http.StatusBadGateway, "error"
	var oe *origin.Error
	if errors.As(err, &oe) {
		status, reason = oe.Status(), oe.Kind.String()
		if leader {
			s.metrics.originErrors.WithLabelValues(oe.Origin, reason).Inc()
		}
	}
	if leader {
		msg, logged := "origin failed", status
		if stale != 0 {
			msg, logged = "origin failed; served stale", stale
		}
		s.log.LogAttrs(context.Background(), slog.LevelWarn, msg, slog.String("path", string(ctx.Path())),
			slog.Int("status", logged), slog.String("error", err.Error()))
	}
	return status, reason
}
