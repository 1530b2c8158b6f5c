package jsruntime

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// testChannel maps one channel's memory and returns both ends of its calls ring, each with
// its own doorbell pipe end, as the node and a worker hold them.
func testChannel(t testing.TB, spin time.Duration) (*ringWriter, *ringReader, *os.File, *os.File) {
	t.Helper()
	f, reg, err := newChannelMemory()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	br, bw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close(); bw.Close() })
	w, err := newRingWriter(ringAt(reg, ringCalls), bw)
	if err != nil {
		t.Fatal(err)
	}
	return w, newRingReader(ringAt(reg, ringCalls), br, spin), br, bw
}

// TestRingReader: a frame that comes while the reader polls, one that comes after it parked,
// a read deadline, which applies once it parks, and the end of the doorbell, after which what
// the ring still holds is read before io.EOF.
func TestRingReader(t *testing.T) {
	w, r, bell, bellW := testChannel(t, 20*time.Millisecond)
	buf := make([]byte, 16)
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 60 * time.Millisecond} {
		wrote := make(chan struct{}) // writers take turns, as under workerProc.wmu
		go func() {
			defer close(wrote)
			time.Sleep(delay)
			_, _ = w.Write([]byte("frame"))
		}()
		n, err := r.Read(buf)
		<-wrote
		if err != nil || string(buf[:n]) != "frame" {
			t.Fatalf("after %v: %q, %v", delay, buf[:n], err)
		}
	}
	if err := bell.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the deadline took %v", d)
	}
	_ = bell.SetReadDeadline(time.Time{})
	if _, err := w.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	bellW.Close()
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "last" {
		t.Fatalf("after the writer's end: %q, %v; want what it wrote before", buf[:n], err)
	}
	if _, err := r.Read(buf); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

// TestRingReaderAdapts: a peer whose frames come later than the spin stops being polled for,
// and one that turns quick again is polled for after the next retry.
func TestRingReaderAdapts(t *testing.T) {
	w, r, _, _ := testChannel(t, time.Millisecond)
	buf := make([]byte, 16)
	read := func(delay time.Duration) {
		t.Helper()
		wrote := make(chan struct{})
		if delay == 0 {
			_, _ = w.Write([]byte("x")) // there before the read
			close(wrote)
		} else {
			go func() {
				defer close(wrote)
				time.Sleep(delay)
				_, _ = w.Write([]byte("x"))
			}()
		}
		_, err := r.Read(buf)
		<-wrote
		if err != nil {
			t.Fatal(err)
		}
	}
	for range spinScoreMax {
		read(5 * time.Millisecond)
	}
	if r.score != 0 {
		t.Fatalf("after slow frames: score %d, want 0 (no more polling)", r.score)
	}
	for range spinRetry + 1 {
		read(0)
	}
	if r.score == 0 {
		t.Fatal("after quick frames and a retry: still not polling")
	}
}

// TestRingStream: 4 MiB in writes of random sizes, some larger than the ring, arrive whole and
// in order through reads of random sizes, with the reader parking (no spin) and polling.
func TestRingStream(t *testing.T) {
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		w, r, bell, _ := testChannel(t, spin)
		// A lost wake-up fails the read at this deadline rather than hanging the test.
		if err := bell.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, uint64(spin)))
		data := make([]byte, 4<<20)
		for i := range data {
			data[i] = byte(rnd.Uint32())
		}
		errc := make(chan error, 1)
		go func() {
			rnd := rand.New(rand.NewPCG(2, 2))
			for p := data; len(p) > 0; {
				n := min(len(p), 1+rnd.IntN(3*ringSize/2))
				if _, err := w.Write(p[:n]); err != nil {
					errc <- err
					return
				}
				p = p[n:]
			}
			errc <- nil
		}()
		got := make([]byte, 0, len(data))
		buf := make([]byte, ringSize)
		for len(got) < len(data) {
			n, err := r.Read(buf[:1+rnd.IntN(len(buf))])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("spin %v: the stream arrived changed", spin)
		}
	}
}

// TestRingCorrupt: indices a hostile peer wrote are refused, by the node's reader and writer
// alike, before any byte is copied.
func TestRingCorrupt(t *testing.T) {
	w, r, _, _ := testChannel(t, 0)
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := r.Read(buf[:1]); n != 1 || err != nil {
		t.Fatalf("read: %d, %v", n, err)
	}
	cases := []struct {
		name string
		set  func()
		op   func() (int, error)
	}{
		{"head past the ring", func() { r.r.head.Store(r.r.pos + ringSize + 1) }, func() (int, error) { return r.Read(buf) }},
		{"head behind the tail", func() { r.r.head.Store(r.r.pos - 1) }, func() (int, error) { return r.Read(buf) }},
		{"tail past the head", func() { w.r.tail.Store(w.r.pos + 1) }, func() (int, error) { return w.Write(buf) }},
		{"tail a ring behind", func() { w.r.tail.Store(w.r.pos - ringSize - 1) }, func() (int, error) { return w.Write(buf) }},
	}
	for _, c := range cases {
		head, tail := r.r.head.Load(), w.r.tail.Load()
		c.set()
		if n, err := c.op(); n != 0 || !errors.Is(err, errRingCorrupt) {
			t.Errorf("%s: %d, %v; want 0, errRingCorrupt", c.name, n, err)
		}
		r.r.head.Store(head)
		w.r.tail.Store(tail)
	}
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "bc" {
		t.Fatalf("with the indices restored: %q, %v", buf[:n], err)
	}
}

// TestRingWriterReaderGone: a writer waiting for room in a full ring returns syscall.EPIPE
// once the reader's end of the doorbell closes, as when the worker died.
func TestRingWriterReaderGone(t *testing.T) {
	w, _, bell, _ := testChannel(t, 0)
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, ringSize+1))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a write larger than the ring returned with nobody reading: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	bell.Close()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("got %v, want EPIPE", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer still waits for a reader that is gone")
	}
}

// FuzzRingIndices: whatever a peer writes into the control words, get and put copy nothing
// out of range: they fail with errRingCorrupt, or move at most what the indices allow.
func FuzzRingIndices(f *testing.F) {
	f.Add(uint64(0), uint64(0), uint64(0), uint16(10))
	f.Add(uint64(ringSize), uint64(0), uint64(0), uint16(ringSize-1))
	f.Add(uint64(1<<63), uint64(5), uint64(1<<63+ringSize), uint16(100))
	f.Add(uint64(3), uint64(7), uint64(5), uint16(65535))
	file, reg, err := newChannelMemory()
	if err != nil {
		f.Fatal(err)
	}
	file.Close()
	buf := make([]byte, 1<<16)
	f.Fuzz(func(t *testing.T, pos, head, tail uint64, n uint16) {
		r := ringAt(reg, ringResults)
		r.pos = pos
		r.head.Store(head)
		got, err := r.get(buf[:n])
		switch {
		case err != nil:
			if head-pos <= ringSize {
				t.Fatalf("get refused head %d at pos %d", head, pos)
			}
		case uint64(got) > head-pos || got > int(n) || r.pos != pos+uint64(got):
			t.Fatalf("get moved %d with head %d, pos %d, room %d", got, head, pos, n)
		}
		w := ringAt(reg, ringCalls)
		w.pos = pos
		w.tail.Store(tail)
		put, err := w.put(buf[:n])
		switch {
		case err != nil:
			if pos-tail <= ringSize {
				t.Fatalf("put refused tail %d at pos %d", tail, pos)
			}
		case uint64(put) > ringSize-(pos-tail) || put > int(n) || w.pos != pos+uint64(put) || w.head.Load() != w.pos && put > 0:
			t.Fatalf("put moved %d with tail %d, pos %d, %d to write", put, tail, pos, n)
		}
	})
}

// TestRingReaderFlood: a writer that rings the doorbell over and over with nothing in the
// ring makes the read fail (a broken protocol), not spin until its deadline.
func TestRingReaderFlood(t *testing.T) {
	_, r, _, bellW := testChannel(t, 0)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = bellW.Write(make([]byte, 256))
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 16))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errDoorbellFlood) {
			t.Fatalf("got %v, want errDoorbellFlood", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read still wakes in vain")
	}
}

// TestChannelMemorySealed: the channel's memory cannot be resized by anyone who holds it.
func TestChannelMemorySealed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memfd seals are Linux's")
	}
	f, _, err := newChannelMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int64{shmSize / 2, 2 * shmSize} {
		if err := f.Truncate(size); err == nil {
			t.Errorf("the channel memory was resized to %d bytes", size)
		}
	}
}
