package admin

import (
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/registry"
)

// functionInfo is GET /v1/functions/{name}.
type functionInfo struct {
	registry.Function
	Versions     []registry.Version     `json:"versions"`
	Aliases      []registry.Alias       `json:"aliases"`
	Associations []registry.Association `json:"associations"`
}

func (a *api) snapshot(w http.ResponseWriter) (*registry.State, bool) {
	st, err := a.reg.Snapshot()
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	return st, true
}

// function returns the snapshot and the named function, or answers 404.
func (a *api) function(w http.ResponseWriter, r *http.Request) (*registry.State, registry.Function, bool) {
	st, ok := a.snapshot(w)
	if !ok {
		return nil, registry.Function{}, false
	}
	name := r.PathValue("name")
	f, ok := st.Functions[name]
	if !ok {
		writeError(w, http.StatusNotFound, "admin: function "+strconv.Quote(name)+" not found")
	}
	return st, f, ok
}

func (a *api) listFunctions(w http.ResponseWriter, _ *http.Request) {
	st, ok := a.snapshot(w)
	if !ok {
		return
	}
	fs := make([]registry.Function, 0, len(st.Functions))
	for _, f := range st.Functions {
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"functions": fs, "revision": st.Revision})
}

func (a *api) getFunction(w http.ResponseWriter, r *http.Request) {
	st, f, ok := a.function(w, r)
	if !ok {
		return
	}
	as := st.AssociationsOf(f.Name)
	if as == nil {
		as = []registry.Association{}
	}
	writeJSON(w, http.StatusOK, functionInfo{Function: f, Versions: st.SortedVersions(f.Name), Aliases: st.SortedAliases(f.Name), Associations: as})
}

// putCode checks the package (limits, structure, then a compile), then stores it.
func (a *api) putCode(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	up := registry.Upload{Runtime: q.Get("runtime"), Entry: q.Get("entry"), Description: q.Get("description"), KVS: q.Get("kvs")}
	if up.Runtime == "" || !q.Has("kvs") {
		if st, err := a.reg.Snapshot(); err == nil {
			if up.Runtime == "" {
				up.Runtime = st.Functions[name].Runtime // keep an existing function's runtime
			}
			if !q.Has("kvs") {
				up.KVS = st.Functions[name].KVS // and its store; kvs= (empty) removes it
			}
		}
	}
	limit := a.reg.Limits().ForUpload(up.Runtime)
	if r.ContentLength > limit {
		a.fail(w, &registry.TooLargeError{What: "package", Size: r.ContentLength, Limit: limit})
		return
	}
	var err error
	if up.Package, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		a.fail(w, err)
		return
	}
	if !registry.ValidName(name) {
		writeError(w, http.StatusBadRequest, "admin: function name "+strconv.Quote(name)+": want 1-64 letters, digits, '-' or '_'")
		return
	}
	src, err := a.reg.Prepare(up)
	if err == nil && up.KVS != "" && a.o.KVS != nil {
		if _, serr := a.o.KVS.Snapshot(up.KVS); serr != nil {
			// As CloudFront requires: a function reading a store that is not there would
			// answer every get with KeyNotFound.
			writeError(w, http.StatusBadRequest, "admin: kvs "+strconv.Quote(up.KVS)+": no such KeyValueStore here: create it first (verge kvs create "+up.KVS+")")
			return
		}
	}
	if err == nil {
		err = a.act.Check(name, up.Runtime, up.KVS, src)
		var ce *deploy.CompileError
		var le *deploy.LoadError
		if errors.As(err, &ce) || errors.As(err, &le) {
			// The uploader's mistake, answered to them: nothing the node's operator must act on.
			a.log.Info("admin: upload refused: the code does not load", "function", name, "error", err.Error())
		}
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	f, err := a.reg.PutCode(who(r.Context()), name, up)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	writeJSON(w, http.StatusOK, f)
}

func (a *api) deleteFunction(w http.ResponseWriter, r *http.Request) {
	if err := a.reg.DeleteFunction(who(r.Context()), r.PathValue("name")); err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) publish(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Description string `json:"description"`
	}
	if err := decode(w, r, &body); err != nil {
		a.fail(w, err)
		return
	}
	v, created, err := a.reg.Publish(who(r.Context()), r.PathValue("name"), body.Description)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, v)
}

func (a *api) listVersions(w http.ResponseWriter, r *http.Request) {
	st, f, ok := a.function(w, r)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"versions": st.SortedVersions(f.Name)})
	}
}

func (a *api) version(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, ok := registry.VersionNumber(r.PathValue("version"))
	if !ok {
		writeError(w, http.StatusBadRequest, "admin: version "+strconv.Quote(r.PathValue("version"))+": want a version number")
	}
	return n, ok
}

func (a *api) getVersion(w http.ResponseWriter, r *http.Request) {
	n, ok := a.version(w, r)
	if !ok {
		return
	}
	st, f, ok := a.function(w, r)
	if !ok {
		return
	}
	v, ok := st.Versions[f.Name][n]
	if !ok {
		writeError(w, http.StatusNotFound, "admin: version "+f.Name+":"+strconv.Itoa(n)+" not found")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) deleteVersion(w http.ResponseWriter, r *http.Request) {
	n, ok := a.version(w, r)
	if !ok {
		return
	}
	if err := a.reg.DeleteVersion(who(r.Context()), r.PathValue("name"), n); err != nil {
		a.fail(w, err)
		return
	}
	a.changed()
	w.WriteHeader(http.StatusNoContent)
}
