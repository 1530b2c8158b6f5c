package deploy

import (
	"fmt"
	"sync"
	"time"

	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/jsruntime"
)

// LogEntry is one console line of a function invocation.
type LogEntry struct {
	Time      time.Time `json:"time"`
	Function  string    `json:"function"`
	Version   string    `json:"version"`
	RequestID string    `json:"requestId"`
	Level     string    `json:"level"`
	Message   string    `json:"message"`
}

// logBook keeps the newest lines of each function in a bounded ring and fans new lines out
// to followers. add never blocks: a follower that does not keep up loses lines. Safe for
// concurrent use.
type logBook struct {
	size int
	now  func() time.Time

	mu        sync.Mutex
	closed    bool // after stopFollowers: follow returns closed channels
	rings     map[string]*ring
	followers map[string]map[chan LogEntry]struct{}
}

type ring struct {
	buf  []LogEntry
	next int
	full bool
}

func newLogBook(size int, now func() time.Time) *logBook {
	return &logBook{size: size, now: now, rings: map[string]*ring{}, followers: map[string]map[chan LogEntry]struct{}{}}
}

// sink is a jsruntime.Options.LogSink.
func (b *logBook) sink(fn, version, requestID string, lines []jsruntime.LogLine) {
	t := b.now().UTC()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.rings[fn]
	if r == nil {
		r = &ring{buf: make([]LogEntry, b.size)}
		b.rings[fn] = r
	}
	for _, l := range lines {
		e := LogEntry{Time: t, Function: fn, Version: version, RequestID: requestID, Level: l.Level, Message: l.Message}
		r.buf[r.next] = e
		r.next = (r.next + 1) % len(r.buf)
		r.full = r.full || r.next == 0
		for ch := range b.followers[fn] {
			select {
			case ch <- e:
			default:
			}
		}
	}
}

// FunctionFailed records a failed invocation in fn's log as an ERROR line naming the stage,
// the outcome and the reason, so that `verge fn logs` shows it beside the console output
// (edge.FunctionErrorSink). It never blocks.
func (a *Activator) FunctionFailed(fn, version, requestID string, stage hooks.Stage, kind hooks.Kind, err error) {
	a.logs.sink(fn, version, requestID, []jsruntime.LogLine{{
		Level: "ERROR", Message: fmt.Sprintf("%s %s: %v", stage, kind, err),
	}})
}

var _ edge.FunctionErrorSink = (*Activator)(nil)

// tail returns fn's buffered lines, oldest first.
func (b *logBook) tail(fn string) []LogEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.rings[fn]
	if r == nil {
		return []LogEntry{}
	}
	if !r.full {
		return append([]LogEntry(nil), r.buf[:r.next]...)
	}
	return append(append([]LogEntry(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// follow subscribes to fn's new lines until cancel is called.
func (b *logBook) follow(fn string) (<-chan LogEntry, func()) {
	ch := make(chan LogEntry, 256)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	if b.followers[fn] == nil {
		b.followers[fn] = map[chan LogEntry]struct{}{}
	}
	b.followers[fn][ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.followers[fn][ch]; ok {
			delete(b.followers[fn], ch)
			close(ch)
		}
	}
}

// forget drops a deleted function's lines.
func (b *logBook) forget(fn string) {
	b.mu.Lock()
	delete(b.rings, fn)
	b.mu.Unlock()
}

// stopFollowers ends every follower's stream, now and for good.
func (b *logBook) stopFollowers() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for fn, chs := range b.followers {
		for ch := range chs {
			close(ch)
		}
		delete(b.followers, fn)
	}
}
