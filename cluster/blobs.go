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
	"slices"
	"strings"
)

var (
	// ErrHashMismatch means a blob's content does not hash to the sha256 it was fetched under.
	ErrHashMismatch = errors.New("cluster: blob content does not match its sha256")
	// ErrBlobNotFound means no alive peer served the blob.
	ErrBlobNotFound = errors.New("cluster: blob not found on any peer")
)

// sourcesKey carries WithSources' names in a context.
type sourcesKey struct{}

// WithSources returns ctx carrying the names of the members that wrote the records naming a
// blob (its publisher): FetchBlob asks those of them that are alive first, since they hold it
// from the start, while others may not have fetched it yet.
func WithSources(ctx context.Context, nodes []string) context.Context {
	return context.WithValue(ctx, sourcesKey{}, nodes)
}

// FetchBlob makes sure the blob with this sha256 is in the local Blobs: if it is missing, it asks
// the alive members that advertise an admin URL until one serves it: first the sources named in
// ctx (WithSources), then the others, each group in random order. Dead, left and unknown
// members are never asked. Requests carry Config.FleetToken, never an admin token. The content
// is hashed as it streams into Blobs.Put and refused (Put sees a read error) if the hash differs
// or it exceeds Config.MaxBlobBytes; the next peer is tried then. A peer without the blob (404)
// is logged at debug level only: it is the usual answer while a new version spreads; the caller
// logs a fetch that failed everywhere. Concurrent fetches of one blob share one download.
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
		sources, _ := ctx.Value(sourcesKey{}).([]string)
		for _, base := range c.blobPeers(sources) {
			err := c.fetchFrom(ctx, base, sum)
			if err == nil {
				c.met.blobFetches.WithLabelValues("ok").Inc()
				return nil, nil
			}
			switch {
			case errors.Is(err, ErrHashMismatch):
				c.met.blobFetches.WithLabelValues("mismatch").Inc()
				c.log.Warn("blob fetch: a peer served content that does not match its sha256", "sha256", key, "peer", base, "error", err.Error())
			case errors.Is(err, errNoSuchBlob):
				c.met.blobFetches.WithLabelValues("absent").Inc()
				c.log.Debug("blob fetch: peer does not hold it (yet)", "sha256", key, "peer", base)
			default:
				c.met.blobFetches.WithLabelValues("error").Inc()
				c.log.Debug("blob fetch", "sha256", key, "peer", base, "error", err.Error())
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		return nil, fmt.Errorf("cluster: fetch blob %s: %w", key, errors.Join(errs...))
	})
	return err
}

// blobPeers returns the admin URLs of the alive peers (memberlist's alive members, as its
// join and leave events told us): the named sources first, the others after, each group
// shuffled.
func (c *Cluster) blobPeers(sources []string) []string {
	c.mu.Lock()
	var first, rest []string
	for _, p := range c.peers {
		if p.local || p.state != StateAlive || p.meta.AdminURL == "" {
			continue
		}
		if slices.Contains(sources, p.name) {
			first = append(first, p.meta.AdminURL)
		} else {
			rest = append(rest, p.meta.AdminURL)
		}
	}
	c.mu.Unlock()
	rand.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	rand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(first, rest...)
}

// errNoSuchBlob is a peer's 404: it does not hold the blob.
var errNoSuchBlob = errors.New("cluster: the peer does not hold the blob")

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
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("cluster: GET %s: %w", url, errNoSuchBlob)
	}
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
