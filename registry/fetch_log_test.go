package registry_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/poll"
	"github.com/vergecdn/verge/registry"
)

// recordingHandler keeps the level and message of every log record.
type recordingHandler struct {
	mu   sync.Mutex
	recs []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Level.String()+" "+r.Message)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) count(level, substr string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if strings.HasPrefix(r, level+" ") && strings.Contains(r, substr) {
			n++
		}
	}
	return n
}

// TestBlobFetchFailureLoggedOnce: a blob that takes several attempts to arrive (peers that do
// not hold it yet) is one warning and one "fetched" line, not one warning per attempt (issue
// 16: 734 warnings in one 30-node run).
func TestBlobFetchFailureLoggedOnce(t *testing.T) {
	a := newNode(t, "A", registry.Options{})
	putCode(t, a, "hello", src("fleet"))
	publish(t, a, "hello")

	b := newNode(t, "B", registry.Options{})
	logs := &recordingHandler{}
	b.r.Close()
	b.r = registry.NewReplica(b.s, registry.ReplicaOptions{FetchBackoff: time.Millisecond, MaxFetchBackoff: 4 * time.Millisecond, Logger: slog.New(logs)})
	var attempts atomic.Int32
	b.r.SetFetch(func(_ context.Context, sum [32]byte) error {
		if attempts.Add(1) <= 5 {
			return errors.New("cluster: the peer does not hold the blob")
		}
		rc, err := a.r.Open(sum)
		if err != nil {
			return err
		}
		defer rc.Close()
		return b.r.Put(sum, rc)
	})
	b.r.Start()
	b.merge(t, a.snapshot(t))
	poll.Until(t, 10*time.Second, "the blob on B", func() bool {
		return logs.count("INFO", "blob fetched after failed attempts") == 1
	})
	if n := logs.count("WARN", "blob fetch failed"); n != 1 {
		t.Fatalf("%d warnings for one blob's failed attempts (%d attempts), want 1", n, attempts.Load())
	}
	if n := logs.count("DEBUG", "blob fetch failed"); n < 4 {
		t.Fatalf("%d debug lines for the later attempts, want at least 4", n)
	}
}
