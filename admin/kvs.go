package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/vergecdn/verge/kvs"
)

// KeyValueStore routes (CloudFront Functions' cf.kvs()):
//
//	GET    /v1/kvs                          list stores
//	POST   /v1/kvs/{store}                  create; body: CloudFront's import format (optional)
//	GET    /v1/kvs/{store}                  describe
//	POST   /v1/kvs/{store}/import           put every item of an import file, creating the store if needed
//	GET    /v1/kvs/{store}/keys             the contents, in the import format, by key
//	GET    /v1/kvs/{store}/keys/{key}       {"key": K, "value": V}
//	PUT    /v1/kvs/{store}/keys/{key}       body = the value
//	DELETE /v1/kvs/{store}/keys/{key}
//
// A change is live at once: functions read a store at each access. Over a limit is 413,
// a malformed name, key or file 400, an existing store 409.
func (a *api) kvsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/kvs", a.kvsList)
	mux.HandleFunc("POST /v1/kvs/{store}", a.kvsCreate)
	mux.HandleFunc("GET /v1/kvs/{store}", a.kvsDescribe)
	mux.HandleFunc("POST /v1/kvs/{store}/import", a.kvsImport)
	mux.HandleFunc("GET /v1/kvs/{store}/keys", a.kvsItems)
	mux.HandleFunc("GET /v1/kvs/{store}/keys/{key...}", a.kvsGet)
	mux.HandleFunc("PUT /v1/kvs/{store}/keys/{key...}", a.kvsPut)
	mux.HandleFunc("DELETE /v1/kvs/{store}/keys/{key...}", a.kvsDelete)
}

// kvsItem is one item of CloudFront's import format.
type kvsItem struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (a *api) stores(w http.ResponseWriter) *kvs.Stores {
	if a.o.KVS == nil {
		writeError(w, http.StatusNotFound, "admin: this node has no KeyValueStores")
	}
	return a.o.KVS
}

func kvsFail(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, kvs.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, kvs.ErrExists):
		writeError(w, http.StatusConflict, err.Error())
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("admin: the body is over the limit of %d bytes", mbe.Limit))
	case errors.Is(err, kvs.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "admin: "+err.Error())
	case errors.Is(err, kvs.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// readImport reads an import-format body; an empty body is an empty store.
func readImport(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4*kvs.MaxStoreBytes))
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return map[string]string{}, nil
	}
	return kvs.ParseImport(b)
}

func (a *api) kvsList(w http.ResponseWriter, r *http.Request) {
	if s := a.stores(w); s != nil {
		list := s.List()
		if list == nil {
			list = []kvs.Info{}
		}
		writeJSON(w, http.StatusOK, list)
	}
}

func (a *api) kvsCreate(w http.ResponseWriter, r *http.Request) {
	a.kvsLoad(w, r, (*kvs.Stores).Create, http.StatusCreated)
}

func (a *api) kvsImport(w http.ResponseWriter, r *http.Request) {
	a.kvsLoad(w, r, (*kvs.Stores).Import, http.StatusOK)
}

// kvsLoad reads a body in CloudFront's import format and hands it to load (create or import)
// for the store the path names, answering status and the store's description.
func (a *api) kvsLoad(w http.ResponseWriter, r *http.Request, load func(*kvs.Stores, string, map[string]string) (kvs.Info, error), status int) {
	s := a.stores(w)
	if s == nil {
		return
	}
	data, err := readImport(w, r)
	if err != nil {
		kvsFail(w, err)
		return
	}
	info, err := load(s, r.PathValue("store"), data)
	if err != nil {
		kvsFail(w, err)
		return
	}
	writeJSON(w, status, info)
}

func (a *api) kvsDescribe(w http.ResponseWriter, r *http.Request) {
	if s := a.stores(w); s != nil {
		info, err := s.Describe(r.PathValue("store"))
		if err != nil {
			kvsFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	}
}

func (a *api) kvsItems(w http.ResponseWriter, r *http.Request) {
	s := a.stores(w)
	if s == nil {
		return
	}
	snap, err := s.Snapshot(r.PathValue("store"))
	if err != nil {
		kvsFail(w, err)
		return
	}
	items := make([]kvsItem, 0, len(snap.Data))
	for k, v := range snap.Data {
		items = append(items, kvsItem{k, v})
	}
	slices.SortFunc(items, func(a, b kvsItem) int { return strings.Compare(a.Key, b.Key) })
	writeJSON(w, http.StatusOK, map[string]any{"data": items})
}

func (a *api) kvsGet(w http.ResponseWriter, r *http.Request) {
	if s := a.stores(w); s != nil {
		v, err := s.Get(r.PathValue("store"), r.PathValue("key"))
		if err != nil {
			kvsFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, kvsItem{r.PathValue("key"), v})
	}
}

func (a *api) kvsPut(w http.ResponseWriter, r *http.Request) {
	s := a.stores(w)
	if s == nil {
		return
	}
	// One byte over the limit is read, so that the store's check names the limit.
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, kvs.MaxValueBytes+1))
	if err != nil {
		kvsFail(w, err)
		return
	}
	info, err := s.Put(r.PathValue("store"), r.PathValue("key"), string(b))
	if err != nil {
		kvsFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (a *api) kvsDelete(w http.ResponseWriter, r *http.Request) {
	if s := a.stores(w); s != nil {
		info, err := s.Delete(r.PathValue("store"), r.PathValue("key"))
		if err != nil {
			kvsFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	}
}
