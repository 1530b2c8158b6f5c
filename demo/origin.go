// Package demo is what `verge serve` runs with no flags: a small origin site embedded in the
// binary, example functions, and the configuration that puts them together.
package demo

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"time"
)

//go:embed site
var site embed.FS

// cacheControl per path prefix: what the demo origin tells caches.
var cacheControl = map[string]string{
	"/":           "public, max-age=60",
	"/index.html": "public, max-age=60",
	"/static/":    "public, max-age=86400",
}

// Origin is the demo origin server.
type Origin struct {
	srv *http.Server
	ln  net.Listener
}

// StartOrigin serves the demo site on addr (use "127.0.0.1:0" for any free port).
func StartOrigin(addr string) (*Origin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	o := &Origin{ln: ln, srv: &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err) // a listener we own failed: nothing sensible to do
		}
	}()
	return o, nil
}

// URL is the origin's base URL.
func (o *Origin) URL() string { return "http://" + o.ln.Addr().String() }

// Close stops the origin.
func (o *Origin) Close() error { return o.srv.Close() }

// Handler serves the demo site: cacheable HTML, CSS and an image, and a JSON API path that
// says no-store.
func Handler() http.Handler {
	root, _ := fs.Sub(site, "site")
	files := http.FileServerFS(root)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/time", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"time": time.Now().UTC().Format(time.RFC3339Nano)})
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		cc := cacheControl[r.URL.Path]
		if len(r.URL.Path) > len("/static/") && r.URL.Path[:len("/static/")] == "/static/" {
			cc = cacheControl["/static/"]
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		files.ServeHTTP(w, r)
	})
	return mux
}
