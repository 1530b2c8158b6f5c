package jsruntime

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestSpinReader: a frame that comes while the reader polls, one that comes after it parked,
// the end of the pipe, and a read deadline, which applies once it parks.
func TestSpinReader(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sr, err := newSpinReader(r, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 60 * time.Millisecond} {
		go func() {
			time.Sleep(delay)
			_, _ = w.Write([]byte("frame"))
		}()
		n, err := sr.Read(buf)
		if err != nil || string(buf[:n]) != "frame" {
			t.Fatalf("after %v: %q, %v", delay, buf[:n], err)
		}
	}
	if err := r.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := sr.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the deadline took %v", d)
	}
	_ = r.SetReadDeadline(time.Time{})
	w.Close()
	if _, err := sr.Read(buf); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

// TestSpinReaderAdapts: a peer whose frames come later than the spin stops being polled for,
// and one that turns quick again is polled for after the next retry.
func TestSpinReaderAdapts(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	sr, err := newSpinReader(r, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	read := func(delay time.Duration) {
		t.Helper()
		if delay == 0 {
			_, _ = w.Write([]byte("x")) // there before the read
		} else {
			go func() {
				time.Sleep(delay)
				_, _ = w.Write([]byte("x"))
			}()
		}
		if _, err := sr.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	for range spinScoreMax {
		read(5 * time.Millisecond)
	}
	if sr.score != 0 {
		t.Fatalf("after slow frames: score %d, want 0 (no more polling)", sr.score)
	}
	for range spinRetry + 1 {
		read(0)
	}
	if sr.score == 0 {
		t.Fatal("after quick frames and a retry: still not polling")
	}
}
