package cluster

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestFetchBlob(t *testing.T) {
	nodes := startFleet(t, 3, nodeOpts{admin: true, token: "s3cret"})
	code := []byte("exports.handler = async (e) => e.Records[0].cf.request;")
	sum := sha256.Sum256(code)
	if err := nodes[0].blobs.Put(sum, bytesReader(code)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "admin URLs in node meta", func() bool { return len(nodes[2].c.blobPeers()) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[2].c.FetchBlob(ctx, sum); err != nil {
		t.Fatalf("FetchBlob: %v", err)
	}
	if !nodes[2].blobs.Has(sum) {
		t.Fatal("fetched blob not stored")
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
	waitFor(t, 3*time.Second, "admin URLs in node meta", func() bool { return len(nodes[1].c.blobPeers()) == 1 })
	err := nodes[1].c.FetchBlob(context.Background(), claimed)
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("FetchBlob = %v, want ErrHashMismatch", err)
	}
	if nodes[1].blobs.Has(claimed) {
		t.Fatal("a blob with the wrong hash was stored")
	}
}

func TestBlobRouteNeedsToken(t *testing.T) {
	nodes := startFleet(t, 1, nodeOpts{admin: true, token: "s3cret"})
	sum := sha256.Sum256([]byte("x"))
	for _, tt := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer s3cret", http.StatusNotFound}} {
		req, _ := http.NewRequest("GET", nodes[0].admin.URL+"/v1/blobs/"+hexSum(sum), nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("Authorization %q: status %d, want %d", tt.auth, resp.StatusCode, tt.want)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
