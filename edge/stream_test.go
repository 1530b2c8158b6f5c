package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vergecdn/verge/cache"
)

// TestStreamFirstByteBeforeTheOriginFinishes: a response that will not be stored reaches the
// viewer as it arrives.
func TestStreamFirstByteBeforeTheOriginFinishes(t *testing.T) {
	rest := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "first part;")
		w.(http.Flusher).Flush()
		select {
		case <-rest:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second part")
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	first := make([]byte, len("first part;"))
	got := make(chan *http.Response, 1)
	failed := make(chan error, 1)
	go func() {
		resp, err := n.client.Get("http://" + n.Addr() + "/s")
		if err == nil {
			if _, err = io.ReadFull(resp.Body, first); err == nil {
				got <- resp
				return
			}
			resp.Body.Close()
		}
		failed <- err
	}()
	var resp *http.Response
	select {
	case resp = <-got:
		defer resp.Body.Close()
		if string(first) != "first part;" {
			t.Fatalf("first bytes %q", first)
		}
	case err := <-failed:
		t.Fatal(err)
	case <-time.After(3 * time.Second):
		close(rest)
		t.Fatal("the first bytes did not reach the viewer before the origin finished")
	}
	close(rest) // only now does the origin finish
	tail, err := io.ReadAll(resp.Body)
	if err != nil || string(tail) != "second part" {
		t.Fatalf("rest %q: %v", tail, err)
	}
}

// TestStreamLargerThanMaxObjectSize: a response too large to store streams through whole, and
// is not stored (it used to be refused with a 502 past 8 times max_object_size).
func TestStreamLargerThanMaxObjectSize(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		body := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			}
			io.WriteString(w, body)
		})
		n := startNode(t, "cache: {max_object_size: 1KiB}\norigins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
		for range 2 {
			r := n.get(t, "/big")
			r.expect(t, 200, "Miss from verge")
			if r.body != body {
				t.Fatalf("chunked %v: got %d bytes", chunked, len(r.body))
			}
		}
	}
}

// TestTruncatedBodyIsNotComplete: an origin body that breaks off is never stored, and a
// streamed one ends the viewer's connection instead of looking complete.
func TestTruncatedBodyIsNotComplete(t *testing.T) {
	for _, cc := range []string{"max-age=60", "no-store"} {
		url := resettingOrigin(t, "HTTP/1.1 200 OK\r\nCache-Control: "+cc+"\r\nContent-Length: 1000\r\n\r\nonly part")
		n := startNode(t, "origins: [{id: o, url: ORIGIN, read_timeout: 2s}]\nbehaviors: [{path: \"*\"}]\n", url, nil)
		resp, err := n.client.Get("http://" + n.Addr() + "/t")
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == 200 {
				t.Fatalf("%s: a truncated body looked complete: %q", cc, b)
			}
		}
		if n.Store().Purge(cache.Purge{Pattern: "all"}) != 0 {
			t.Fatalf("%s: a truncated body was stored", cc)
		}
	}
}

// TestHeadOfAStreamedObject: a HEAD for an object that is not stored gets the headers only,
// and the origin connection is given back for the next request.
func TestHeadOfAStreamedObject(t *testing.T) {
	body := strings.Repeat("x", 64<<10)
	o := staticOrigin(t, body, "Cache-Control", "no-store")
	n := startNode(t, "origins: [{id: o, url: ORIGIN, max_conns: 1, connect_timeout: 2s}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	for range 3 {
		r := n.do(t, http.MethodHead, "/h")
		if r.StatusCode != 200 || r.body != "" {
			t.Fatalf("HEAD: %d %q", r.StatusCode, r.body)
		}
	}
	if r := n.get(t, "/h"); r.body != body {
		t.Fatalf("GET after HEADs: %d bytes", len(r.body))
	}
}

// TestStreamPacedByReadTimeout: the origin's read_timeout bounds the wait between two pieces
// of a streamed body, not the whole: a body that keeps coming for longer streams through
// whole (it used to be cut off at read_timeout), and one that stalls for longer is cut off
// without looking complete.
func TestStreamPacedByReadTimeout(t *testing.T) {
	const piece = "0123456789"
	for _, tt := range []struct {
		name  string
		gap   time.Duration // between pieces; read_timeout is 600 ms
		whole bool
	}{
		{"keeps coming for 2x read_timeout", 100 * time.Millisecond, true},
		{"stalls for longer than read_timeout", 1500 * time.Millisecond, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				w.Header().Set("Content-Length", "120")
				for range 12 {
					io.WriteString(w, piece)
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(tt.gap):
					}
				}
			})
			n := startNode(t, "origins: [{id: o, url: ORIGIN, read_timeout: 600ms}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
			var b []byte
			resp, err := n.client.Get("http://" + n.Addr() + "/s") // a stall before the header is flushed: EOF
			if err == nil {
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if complete := err == nil && string(b) == strings.Repeat(piece, 12); complete != tt.whole {
				t.Fatalf("got %d bytes (err %v), want the whole body: %v", len(b), err, tt.whole)
			}
		})
	}
}

// TestStoredBodyBoundedAsAWhole: a body taken whole to be stored must arrive within the
// origin's connect_timeout + read_timeout, however it trickles (each piece within
// read_timeout): the viewer gets a 504 and nothing is stored, rather than the fetch and every
// request collapsed on it waiting as long as the origin likes.
func TestStoredBodyBoundedAsAWhole(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "300")
		for range 30 { // 3 s in all, each piece well within read_timeout
			io.WriteString(w, "0123456789")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN, connect_timeout: 100ms, read_timeout: 300ms}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
	start := time.Now()
	r := n.get(t, "/slow")
	if r.StatusCode != http.StatusGatewayTimeout || time.Since(start) > 2*time.Second {
		t.Fatalf("after %v: status %d, want a 504 at about 0.4 s, long before the body's 3 s", time.Since(start), r.StatusCode)
	}
	if n.Store().Purge(cache.Purge{Pattern: "all"}) != 0 {
		t.Fatal("a body cut off was stored")
	}
}
