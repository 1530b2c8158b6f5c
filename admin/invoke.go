package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/vergecdn/verge/registry"
)

func (a *api) invoke(w http.ResponseWriter, r *http.Request) {
	event, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.o.MaxEventBytes))
	if err != nil {
		a.fail(w, err)
		return
	}
	q := r.URL.Query().Get("qualifier")
	if q == "" {
		q = registry.Latest
	}
	rep, err := a.act.Invoke(r.Context(), r.PathValue("name"), q, event)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// logs answers the buffered console lines as {"logs": [...]}, or with ?follow=1 streams
// them as NDJSON, then every new line, until the client goes away.
func (a *api) logs(w http.ResponseWriter, r *http.Request) {
	_, f, ok := a.function(w, r)
	if !ok {
		return
	}
	if follow, _ := strconv.ParseBool(r.URL.Query().Get("follow")); !follow {
		writeJSON(w, http.StatusOK, map[string]any{"logs": a.act.Logs(f.Name)})
		return
	}
	lines, cancel := a.act.Follow(f.Name)
	defer cancel()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	for _, e := range a.act.Logs(f.Name) {
		_ = enc.Encode(e)
	}
	if rc.Flush() != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-lines:
			if !ok {
				return
			}
			if enc.Encode(e) != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func (a *api) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	es, err := a.reg.Audit(after, limit)
	if err != nil {
		a.fail(w, err)
		return
	}
	if es == nil {
		es = []registry.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}
