package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"strings"
)

var (
	// ErrHashMismatch means a blob's content does not hash to the sha256 it was fetched under.
	ErrHashMismatch = errors.New("cluster: blob content does not match its sha256")
	// ErrBlobNotFound means no alive peer served the blob.
	ErrBlobNotFound = errors.New("cluster: blob not found on any peer")
)

// FetchBlob makes sure the blob with this sha256 is in the local Blobs: if it is missing, it asks
// the alive peers that advertise an admin URL, in random order, until one serves it. The content
// is hashed as it streams into Blobs.Put and refused (Put sees a read error) if the hash differs
// or it exceeds Config.MaxBlobBytes; the next peer is tried then. Concurrent fetches of one blob
// share one download.
func (c *Cluster) FetchBlob(ctx context.Context, sum [32]byte) error {
	if c.blobs.Has(sum) {
		return nil
	}
	key := hex.EncodeToString(sum[:])
	_, err, _ := c.fetch.Do(key, func() (any, error) {
		if c.blobs.Has(sum) {
			return nil, nil
		}
		errs := []error{ErrBlobNotFound}
		for _, base := range c.blobPeers() {
			err := c.fetchFrom(ctx, base, sum)
			if err == nil {
				c.met.blobFetches.WithLabelValues("ok").Inc()
				return nil, nil
			}
			outcome := "error"
			if errors.Is(err, ErrHashMismatch) {
				outcome = "mismatch"
			}
			c.met.blobFetches.WithLabelValues(outcome).Inc()
			c.log.Warn("blob fetch", "sha256", key, "peer", base, "error", err.Error())
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		return nil, fmt.Errorf("cluster: fetch blob %s: %w", key, errors.Join(errs...))
	})
	return err
}

// blobPeers returns the admin URLs of the alive peers, shuffled.
func (c *Cluster) blobPeers() []string {
	c.mu.Lock()
	var out []string
	for _, p := range c.peers {
		if !p.local && p.state == StateAlive && p.meta.AdminURL != "" {
			out = append(out, p.meta.AdminURL)
		}
	}
	c.mu.Unlock()
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// fetchFrom downloads one blob from the admin API at base into Blobs.
func (c *Cluster) fetchFrom(ctx context.Context, base string, sum [32]byte) error {
	url := strings.TrimRight(base, "/") + BlobPath + hex.EncodeToString(sum[:])
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if c.cfg.FleetToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.FleetToken)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cluster: GET %s: %s", url, resp.Status)
	}
	vr := &verifyingReader{r: io.LimitReader(resp.Body, c.cfg.MaxBlobBytes+1), h: sha256.New(), want: sum, max: c.cfg.MaxBlobBytes}
	if err := c.blobs.Put(sum, vr); err != nil {
		if vr.err != nil {
			return vr.err
		}
		return fmt.Errorf("cluster: store blob: %w", err)
	}
	if !vr.verified {
		return fmt.Errorf("cluster: store blob: Put returned before reading the whole blob")
	}
	return nil
}

// verifyingReader hashes what it reads and, at EOF, fails with ErrHashMismatch unless the content
// hashes to want, so a Blobs.Put that stores as it reads sees an error instead of success.
type verifyingReader struct {
	r        io.Reader
	h        hash.Hash
	want     [32]byte
	max, n   int64
	verified bool
	err      error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case v.n > v.max:
		v.err = fmt.Errorf("cluster: blob larger than %d bytes", v.max)
		return 0, v.err
	case err == io.EOF:
		var got [32]byte
		if v.h.Sum(got[:0]); got != v.want {
			v.err = fmt.Errorf("%w: got %x", ErrHashMismatch, got)
			return 0, v.err
		}
		v.verified = true
	case err != nil:
		v.err = err
	}
	return n, err
}

// blobHandler serves GET /v1/blobs/{sha256} from Blobs.
func (c *Cluster) blobHandler(w http.ResponseWriter, r *http.Request) {
	var sum [32]byte
	if b, err := hex.DecodeString(r.PathValue("sha256")); err != nil || len(b) != 32 {
		http.Error(w, "cluster: want /v1/blobs/{64 hex digits of sha256}", http.StatusBadRequest)
		return
	} else {
		copy(sum[:], b)
	}
	rc, err := c.blobs.Open(sum)
	if errors.Is(err, fs.ErrNotExist) {
		http.Error(w, "cluster: no such blob", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "cluster: open blob: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = io.Copy(w, rc)
}

// noBlobs is the Blobs of a node without a blob store: it holds nothing and stores nothing.
type noBlobs struct{}

var _ Blobs = noBlobs{}

func (noBlobs) Has([32]byte) bool { return false }
func (noBlobs) Open([32]byte) (io.ReadCloser, error) {
	return nil, fmt.Errorf("cluster: no blob store: %w", fs.ErrNotExist)
}
func (noBlobs) Put([32]byte, io.Reader) error { return errors.New("cluster: no blob store") }
