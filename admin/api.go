// Package admin is the admin API: JSON over HTTP under /v1/ on the admin port, to manage
// functions ($LATEST code, versions, aliases), associations, test invocations, logs and the
// audit log. Guard is the admin port's door: bearer tokens as docs/security.md says, and the Host and
// Origin checks that keep web pages out. Every change is live when
// the call returns (the activator is synced before answering).
//
// Routes:
//
//	GET    /v1/functions                               list functions
//	GET    /v1/functions/{name}                        a function, its versions, aliases, associations
//	PUT    /v1/functions/{name}/code                   create or update $LATEST: body = JS file or zip;
//	                                                   ?runtime=lambda-edge|cloudfront-js-1.0|cloudfront-js-2.0&entry=F&description=S&kvs=STORE
//	                                                   (entry: a zip's handler file, or a single file's name, default index.js)
//	DELETE /v1/functions/{name}                        delete (409 while associated)
//	POST   /v1/functions/{name}/versions               publish $LATEST: body {"description": S} (optional)
//	GET    /v1/functions/{name}/versions               list versions
//	GET    /v1/functions/{name}/versions/{version}     one version
//	DELETE /v1/functions/{name}/versions/{version}     delete (409 while an alias or association uses it)
//	GET    /v1/functions/{name}/aliases                list aliases
//	GET    /v1/functions/{name}/aliases/{alias}        one alias
//	PUT    /v1/functions/{name}/aliases/{alias}        body {"version": N, "additionalVersion": M, "weight": W}
//	DELETE /v1/functions/{name}/aliases/{alias}        delete (409 while associated)
//	POST   /v1/functions/{name}/invoke?qualifier=Q     test-invoke with the event in the body
//	GET    /v1/functions/{name}/logs[?follow=1]        console lines (JSON; NDJSON stream with follow)
//	GET    /v1/associations                            list associations
//	PUT    /v1/associations/{behavior}/{event}         body {"function": F, "qualifier": Q, "includeBody": B}
//	                                                   (Q: a version or an alias; $LATEST or none: 400)
//	DELETE /v1/associations/{behavior}/{event}         BEHAVIOR is a path pattern (escape "/" as %2F) or "default"
//	GET    /v1/audit[?after=SEQ&limit=N]               the audit log
//	GET    /v1/deploy/status[?function=F]             {"revision", "applied", "settled", "current"}: whether
//	                                                   this node runs what its registry says (for F's associations)
//	...    /v1/kvs...                                  KeyValueStores (see kvs.go)
//
// Errors are {"error": "..."} with 400 (bad input, uploaded code that does not load; a
// syntax error adds "file", "line" and "column"), 401 (token), 403 (not on this node: a publish
// in a signing fleet on a node without the private key), 404 (unknown), 409 (in use), 413 (over
// a size limit).
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/kvs"
	"github.com/vergecdn/verge/registry"
)

// Options configure the API. Registry and Activator are required.
type Options struct {
	Registry  *registry.Store
	Activator *deploy.Activator
	// Behaviors, if set, lists the configured behaviors' path patterns, so that associating
	// an unknown behavior is refused (400). nil, or a nil result: any pattern is accepted.
	Behaviors func() []string
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// MaxEventBytes bounds a test-invoke event. Default 8 MiB.
	MaxEventBytes int64
	// KVS holds the node's KeyValueStores (routes in kvs.go). nil: none.
	KVS *kvs.Stores
}

// api holds the handlers.
type api struct {
	o   Options
	reg *registry.Store
	act *deploy.Activator
	log *slog.Logger
}

// New returns the admin API handler, to mount at "/" of the admin port (edge.Deps.Admin)
// behind Guard (edge.Deps.AdminGuard), which authenticates every call and names the caller
// for the audit log. It is safe for concurrent use.
func New(o Options) (http.Handler, error) {
	if o.Registry == nil || o.Activator == nil {
		return nil, errors.New("admin: a registry and an activator are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = 8 << 20
	}
	a := &api{o: o, reg: o.Registry, act: o.Activator, log: o.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/functions", a.listFunctions)
	mux.HandleFunc("GET /v1/functions/{name}", a.getFunction)
	mux.HandleFunc("PUT /v1/functions/{name}/code", a.putCode)
	mux.HandleFunc("DELETE /v1/functions/{name}", a.deleteFunction)
	mux.HandleFunc("POST /v1/functions/{name}/versions", a.publish)
	mux.HandleFunc("GET /v1/functions/{name}/versions", a.listVersions)
	mux.HandleFunc("GET /v1/functions/{name}/versions/{version}", a.getVersion)
	mux.HandleFunc("DELETE /v1/functions/{name}/versions/{version}", a.deleteVersion)
	mux.HandleFunc("GET /v1/functions/{name}/aliases", a.listAliases)
	mux.HandleFunc("GET /v1/functions/{name}/aliases/{alias}", a.getAlias)
	mux.HandleFunc("PUT /v1/functions/{name}/aliases/{alias}", a.putAlias)
	mux.HandleFunc("DELETE /v1/functions/{name}/aliases/{alias}", a.deleteAlias)
	mux.HandleFunc("POST /v1/functions/{name}/invoke", a.invoke)
	mux.HandleFunc("GET /v1/functions/{name}/logs", a.logs)
	mux.HandleFunc("GET /v1/associations", a.listAssociations)
	mux.HandleFunc("PUT /v1/associations/{behavior}/{event}", a.associate)
	mux.HandleFunc("DELETE /v1/associations/{behavior}/{event}", a.dissociate)
	mux.HandleFunc("GET /v1/audit", a.audit)
	mux.HandleFunc("GET /v1/deploy/status", a.deployStatus)
	a.kvsRoutes(mux) // kvs.go
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "admin: no such route: "+r.Method+" "+r.URL.Path)
	})
	return mux, nil
}

// deployStatus answers whether this node runs what its registry says (deploy.Status), for
// `verge fn alias --wait`, which asks every member of the fleet.
func (a *api) deployStatus(w http.ResponseWriter, r *http.Request) {
	st := a.act.Status(r.URL.Query().Get("function"))
	writeJSON(w, http.StatusOK, map[string]any{"revision": st.Revision, "applied": st.Applied,
		"settled": st.Settled, "current": st.Current()})
}

// changed makes a committed change live before the call answers.
func (a *api) changed() {
	if err := a.act.Sync(); err != nil {
		a.log.Error("admin: applying a change", "error", err.Error())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail answers with err's status: registry kinds, a CompileError (400 with its position),
// a LoadError (400), an oversized body (413), anything else 500.
func (a *api) fail(w http.ResponseWriter, err error) {
	var ce *deploy.CompileError
	var le *deploy.LoadError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ce):
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": fmt.Sprintf("syntax error in %s at line %d, column %d: %s", ce.File, ce.Line, ce.Column, ce.Message),
			"file":  ce.File, "line": ce.Line, "column": ce.Column,
		})
	case errors.As(err, &le):
		writeError(w, http.StatusBadRequest, le.Error())
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("admin: the body is over the limit of %d bytes", mbe.Limit))
	case errors.Is(err, registry.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, registry.ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error())
	case errors.Is(err, registry.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, registry.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, registry.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		a.log.Error("admin: internal error", "error", err.Error())
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// decode reads a JSON body of at most 1 MiB into v; an empty body leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return fmt.Errorf("admin: request body: %v: %w", err, registry.ErrInvalid)
	}
	return nil
}

func (a *api) knownBehavior(b string) error {
	if a.o.Behaviors == nil || b == registry.DefaultBehavior || b == "*" {
		return nil
	}
	bs := a.o.Behaviors()
	if bs == nil || slices.Contains(bs, b) {
		return nil
	}
	return fmt.Errorf("admin: behavior %q is not configured (behaviors: %v): %w", b, bs, registry.ErrInvalid)
}
