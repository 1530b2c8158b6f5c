package jsruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Reading a worker's results: the caller waiting for a result reads the results ring itself
// while it holds the reading role (see workerProc).

// Outcomes of await besides a result.
type awaitStatus int

const (
	awaitResult   awaitStatus = iota
	awaitExited               // the process ended before the result came
	awaitWatchdog             // the result did not come before the watchdog's deadline
	awaitCanceled             // ctx was done
	awaitDeadline             // the caller's deadline passed (the worker may still answer)
)

// await waits for the result of call id (registered as ch) until the caller's deadline soft
// (zero: none) or the watchdog deadline until, reading frames itself whenever no other caller
// does.
func (w *workerProc) await(ctx context.Context, id uint64, ch chan wireResult, soft, until time.Time) (wireResult, awaitStatus) {
	// Fast path: take the reading role at once (nobody else is reading).
	select {
	case <-w.rtok:
		res, st, done := w.lead(ctx, id, ch, soft, until)
		w.rtok <- struct{}{}
		if done {
			return res, st
		}
		return received(ch) // an earlier reader delivered it, or the process ended
	default:
	}
	// One timer: the earlier deadline ends the wait, so the later one never matters.
	dl, late := until, awaitWatchdog
	if !soft.IsZero() && soft.Before(until) {
		dl, late = soft, awaitDeadline
	}
	t := time.NewTimer(time.Until(dl))
	defer t.Stop()
	select {
	case res, ok := <-ch:
		if !ok {
			return res, awaitExited
		}
		return res, awaitResult
	case <-w.rtok:
		res, st, done := w.lead(ctx, id, ch, soft, until)
		w.rtok <- struct{}{}
		if done {
			return res, st
		}
		return received(ch)
	case <-t.C:
		return wireResult{}, late
	case <-ctx.Done():
		return wireResult{}, awaitCanceled
	}
}

// received takes a result that is in ch (or ch's closing).
func received(ch chan wireResult) (wireResult, awaitStatus) {
	res, ok := <-ch
	if !ok {
		return res, awaitExited
	}
	return res, awaitResult
}

// lead reads frames, as the holder of the reading role, until the result of call id arrives,
// the process ends, the deadline soft (if not zero) or the watchdog deadline passes, or ctx is
// done. done is false when ch got the result from an earlier reader (the caller then receives
// it from ch).
func (w *workerProc) lead(ctx context.Context, id uint64, ch chan wireResult, soft, until time.Time) (_ wireResult, _ awaitStatus, done bool) {
	if len(ch) > 0 || w.hasEnded() {
		return wireResult{}, 0, false // delivered (or closed) by an earlier reader
	}
	if ctx.Done() != nil {
		// Cut a blocked read short when ctx is done (a stale kick only costs one more loop).
		defer context.AfterFunc(ctx, func() { _ = w.stdout.SetReadDeadline(time.Now()) })()
	}
	dl := until
	if !soft.IsZero() && soft.Before(until) {
		dl = soft
	}
	_ = w.stdout.SetReadDeadline(dl)
	for {
		typ, body, err := w.fr.next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				now := time.Now()
				switch {
				case ctx.Err() != nil:
					return wireResult{}, awaitCanceled, true
				case !now.Before(until):
					return wireResult{}, awaitWatchdog, true
				case !soft.IsZero() && !now.Before(soft):
					return wireResult{}, awaitDeadline, true
				}
				_ = w.stdout.SetReadDeadline(dl)
				continue
			}
			w.fail(err)
			return wireResult{}, awaitExited, true
		}
		res, ok := decodeReply(typ, body)
		if !ok {
			continue
		}
		if res.ID == id {
			return res, awaitResult, true
		}
		w.mu.Lock()
		other := w.pending[res.ID]
		delete(w.pending, res.ID)
		w.mu.Unlock()
		if other != nil {
			other <- res // buffered: one result per call
		}
	}
}

// drain reads the output to its end (delivering results still in flight), killing the process
// if it has not ended after grace. It waits for the current reader first.
func (w *workerProc) drain(grace time.Duration) {
	deadline := time.Now().Add(grace)
	t := time.NewTimer(grace)
	select {
	case <-w.rtok:
	case <-t.C:
		w.kill("stopped") // the current reader then sees the end
		<-w.rtok
	}
	t.Stop()
	defer func() { w.rtok <- struct{}{} }()
	_ = w.stdout.SetReadDeadline(deadline)
	for !w.hasEnded() {
		typ, body, err := w.fr.next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.kill("stopped")
				_ = w.stdout.SetReadDeadline(time.Time{})
				continue
			}
			w.fail(err)
			return
		}
		if res, ok := decodeReply(typ, body); ok {
			w.mu.Lock()
			ch := w.pending[res.ID]
			delete(w.pending, res.ID)
			w.mu.Unlock()
			if ch != nil {
				ch <- res
			}
		}
	}
}

// decodeReply decodes a reply frame, a call's result or a load's answer; ok is false for
// anything else.
func decodeReply(typ byte, body []byte) (res wireResult, ok bool) {
	switch typ {
	case frameResult:
		res, err := decodeResult(body)
		return res, err == nil
	case frameLoaded:
		var lr loadReply
		if json.Unmarshal(body, &lr) != nil {
			return res, false
		}
		return wireResult{ID: lr.ID, Load: &lr}, true
	}
	return res, false
}

// fail ends the process after its channel failed with err: io.EOF (its doorbell to the node
// hung up, as when it exited), or a broken protocol (a frame or ring index out of range), which
// is said in the reason.
func (w *workerProc) fail(err error) {
	if err != io.EOF {
		w.kill("protocol: " + err.Error())
	}
	w.end()
}

// end reaps the process once its output has ended and fails everything in flight. It is
// called by the holder of the reading role. The end of the output is most often the process's
// exit, but a worker may close its stdout and live on: it is killed first (a signal does not
// change the status of one that is exiting), so that waiting for it is bounded.
func (w *workerProc) end() {
	if w.hasEnded() {
		return
	}
	_ = w.cmd.Process.Kill()
	err := w.cmd.Wait()
	_ = w.bell.Close()
	_ = w.stdout.Close()
	w.mu.Lock()
	w.dead, w.ended = true, true
	if w.why == "" {
		w.why = fmt.Sprintf("%v%s", err, w.stderr.suffix())
	}
	for id, ch := range w.pending {
		close(ch)
		delete(w.pending, id)
	}
	w.mu.Unlock()
	close(w.done)
}

func (w *workerProc) hasEnded() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ended
}
