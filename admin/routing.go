package admin

import (
	"net/http"

	"github.com/vergecdn/verge/registry"
)

func (a *api) listAliases(w http.ResponseWriter, r *http.Request) {
	st, f, ok := a.function(w, r)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"aliases": st.SortedAliases(f.Name)})
	}
}

func (a *api) getAlias(w http.ResponseWriter, r *http.Request) {
	st, f, ok := a.function(w, r)
	if !ok {
		return
	}
	al, ok := st.Aliases[f.Name][r.PathValue("alias")]
	if !ok {
		writeError(w, http.StatusNotFound, "admin: alias "+f.Name+":"+r.PathValue("alias")+" not found")
		return
	}
	writeJSON(w, http.StatusOK, al)
}

func (a *api) putAlias(w http.ResponseWriter, r *http.Request) {
	var spec registry.AliasSpec
	if err := decode(w, r, &spec); err != nil {
		a.fail(w, err)
		return
	}
	al, err := a.reg.PutAlias(who(r.Context()), r.PathValue("name"), r.PathValue("alias"), spec)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	writeJSON(w, http.StatusOK, al)
}

func (a *api) deleteAlias(w http.ResponseWriter, r *http.Request) {
	if err := a.reg.DeleteAlias(who(r.Context()), r.PathValue("name"), r.PathValue("alias")); err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) listAssociations(w http.ResponseWriter, _ *http.Request) {
	st, ok := a.snapshot(w)
	if !ok {
		return
	}
	as := st.Associations
	if as == nil {
		as = []registry.Association{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"associations": as})
}

func (a *api) associate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Function    string `json:"function"`
		Qualifier   string `json:"qualifier"`
		IncludeBody bool   `json:"includeBody"`
	}
	if err := decode(w, r, &body); err != nil {
		a.fail(w, err)
		return
	}
	behavior := r.PathValue("behavior")
	if err := a.knownBehavior(behavior); err != nil {
		a.fail(w, err)
		return
	}
	as, err := a.reg.Associate(who(r.Context()), registry.Association{
		Behavior: behavior, Event: r.PathValue("event"), Function: body.Function, Qualifier: body.Qualifier, IncludeBody: body.IncludeBody,
	})
	if err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	writeJSON(w, http.StatusOK, as)
}

func (a *api) dissociate(w http.ResponseWriter, r *http.Request) {
	if err := a.reg.Dissociate(who(r.Context()), r.PathValue("behavior"), r.PathValue("event")); err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	w.WriteHeader(http.StatusNoContent)
}
