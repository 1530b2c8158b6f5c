package cluster

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
)

func TestFetchBlob(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{admin: true})
	code := []byte("exports.handler = async (e) => e.Records[0].cf.request;")
	sum := sha256.Sum256(code)
	if err := nodes[0].blobs.Put(sum, bytesReader(code)); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 3*time.Second, "admin URLs in node meta", func() bool { return len(nodes[2].c.blobPeers(nil)) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[2].c.FetchBlob(ctx, sum); err != nil {
		t.Fatalf("FetchBlob: %v", err)
	}
	if !nodes[2].blobs.Has(sum) {
		t.Fatal("fetched blob not stored")
	}
	// The fetch carried the fleet credential derived from the gossip key, and nothing else.
	want, err := FleetToken(testKey)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, n := range nodes[:2] {
		n.mu.Lock()
		sent = append(sent, n.auths...)
		n.mu.Unlock()
	}
	if len(sent) == 0 {
		t.Fatal("no blob request reached a peer")
	}
	for _, a := range sent {
		if a != "Bearer "+want {
			t.Fatalf("a blob request carried Authorization %q, want the fleet credential", a)
		}
	}
	missing := sha256.Sum256([]byte("nobody has this"))
	if err := nodes[1].c.FetchBlob(ctx, missing); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("FetchBlob(missing) = %v, want ErrBlobNotFound", err)
	}
}

func TestFetchBlobRefusesWrongHash(t *testing.T) {
	nodes := startFleet(t, 2, nodeOpts{admin: true})
	claimed := sha256.Sum256([]byte("the real code"))
	nodes[0].blobs.putUnchecked(claimed, []byte("evil code"))
	poll.Until(t, 3*time.Second, "admin URLs in node meta", func() bool { return len(nodes[1].c.blobPeers(nil)) == 1 })
	err := nodes[1].c.FetchBlob(context.Background(), claimed)
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("FetchBlob = %v, want ErrHashMismatch", err)
	}
	if nodes[1].blobs.Has(claimed) {
		t.Fatal("a blob with the wrong hash was stored")
	}
}

// TestFleetToken: the credential is a function of the key alone, differs between keys, does
// not contain the key, and a bad key is an error.
func TestFleetToken(t *testing.T) {
	a, err := FleetToken(testKey)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := FleetToken(testKey)
	other, _ := FleetToken("b3RoZXIta2V5LTE2Ynl0ZQ==")
	if a != again || a == other || a == "" || strings.Contains(a, testKey) {
		t.Fatalf("FleetToken: %q, again %q, another key %q", a, again, other)
	}
	if _, err := FleetToken("not base64!"); err == nil {
		t.Fatal("a bad key was accepted")
	}
	if _, err := FleetToken("c2hvcnQ="); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

// TestFetchBlobAsksSourcesFirst: with the publisher named as the source, a fetch asks it
// first and no one else; the peers that lack the blob see no request (issue 16: hundreds of
// 404s from peers that did not hold the blob yet).
func TestFetchBlobAsksSourcesFirst(t *testing.T) {
	nodes := startFleet(t, 4, nodeOpts{admin: true})
	poll.Until(t, 3*time.Second, "admin URLs in node meta", func() bool { return len(nodes[3].c.blobPeers(nil)) == 3 })
	for i := range 6 {
		code := []byte("exports.handler = async (e) => " + strings.Repeat("1+", i) + "1;")
		sum := sha256.Sum256(code)
		if err := nodes[0].blobs.Put(sum, bytesReader(code)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := nodes[3].c.FetchBlob(WithSources(ctx, []string{"gone", nodes[0].name}), sum)
		cancel()
		if err != nil {
			t.Fatalf("FetchBlob: %v", err)
		}
	}
	for _, n := range nodes[1:3] {
		n.mu.Lock()
		asked := len(n.auths)
		n.mu.Unlock()
		if asked != 0 {
			t.Errorf("%s, which never held the blobs, was asked %d times", n.name, asked)
		}
	}
}

// TestFetchBlobFollowsNoRedirect: a peer that answers a blob request with a redirect is not
// followed (it would choose any URL for us to fetch); the fetch fails on that peer.
func TestFetchBlobFollowsNoRedirect(t *testing.T) {
	code := []byte("exports.handler = async (e) => e.Records[0].cf.request;")
	sum := sha256.Sum256(code)
	var followed atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		followed.Store(true)
		w.Write(code)
	}))
	defer target.Close()
	nodes := startFleet(t, 2, nodeOpts{admin: true})
	nodes[0].admin.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/anything", http.StatusFound)
	})
	poll.Until(t, 3*time.Second, "admin URLs in node meta", func() bool { return len(nodes[1].c.blobPeers(nil)) == 1 })
	if err := nodes[1].c.FetchBlob(context.Background(), sum); err == nil || followed.Load() {
		t.Fatalf("FetchBlob = %v, redirect followed: %v", err, followed.Load())
	}
}
