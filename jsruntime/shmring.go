package jsruntime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The worker channel. The frames between the node and a worker travel through two byte rings,
// one each way, in a region of memory both processes map (a memfd the worker inherits as
// descriptor 3). The worker's stdin and stdout pipes carry no frames: a byte on one is a
// wake-up ("doorbell") for a reader that parked, and a pipe's hang-up tells its reader that the
// writer is gone. A writer writes to the doorbell only when the reader said it parked, so
// while either side finds the other's frames waiting, a call costs neither a system call.
// With a pipe each frame was a write(2) and a read(2), and a write to a parked reader woke it
// through the kernel.
//
// The worker runs hostile code, and may write anything anywhere in the region: the node
// trusts none of it. It keeps its own index into each ring and takes the worker's only as a
// claim, checked against the ring's size before it is used; it copies bytes out of the ring
// before decoding them; a doorbell the worker withholds only makes the node sleep until the
// deadline it would have slept to anyway, and one it floods is a broken protocol
// (errDoorbellFlood). The memory is sealed at its size, so that no holder can shrink it under
// the node's mapping.
const (
	ringSize  = 64 << 10 // the bytes of each ring; a power of two
	shmHeader = 4 << 10  // the indices, before the rings
	shmSize   = shmHeader + 2*ringSize

	// The two rings, by index: ring i's control words start at i*ctlSize in the header, its
	// bytes at shmHeader+i*ringSize.
	ringCalls   = 0 // node -> worker
	ringResults = 1 // worker -> node

	// Offsets of a ring's control words, on cache lines of their own: the head (written by the
	// ring's producer), the tail (by its consumer) and the consumer's waiting flag (set by the
	// consumer while it parks, cleared by whoever wakes it).
	ctlSize    = 512
	ctlHead    = 0
	ctlTail    = 128
	ctlWaiting = 256
)

// errRingCorrupt is a ring whose peer-written index claims more than the ring holds.
var errRingCorrupt = errors.New("jsruntime: worker channel: a ring index is out of range")

// shmRegion is one mapping of a channel's memory. It is unmapped by a cleanup once nothing
// refers to it: each ring holds it, so no access can follow the unmapping.
type shmRegion struct{ mem []byte }

func mapRegion(f *os.File) (*shmRegion, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, shmSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("jsruntime: worker channel: %w", err)
	}
	r := &shmRegion{mem: mem}
	runtime.AddCleanup(r, func(mem []byte) { _ = unix.Munmap(mem) }, mem)
	return r, nil
}

// newChannelMemory makes a channel's memory for a new worker: the file to pass to it and the
// node's mapping.
func newChannelMemory() (*os.File, *shmRegion, error) {
	f, err := sharedFile(shmSize)
	if err != nil {
		return nil, nil, fmt.Errorf("jsruntime: worker channel: %w", err)
	}
	reg, err := mapRegion(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, reg, nil
}

// openChannelMemory maps the channel memory a worker inherited as f.
func openChannelMemory(f *os.File) (*shmRegion, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("jsruntime: worker channel: %w", err)
	}
	if st.Size != shmSize {
		return nil, fmt.Errorf("jsruntime: worker channel: descriptor 3 holds %d bytes, not %d", st.Size, shmSize)
	}
	return mapRegion(f)
}

// ring is one end of one ring of a region: pos is this end's own index (the head it wrote or
// the tail it read), never read back from the shared memory.
type ring struct {
	reg                 *shmRegion
	head, tail, waiting *atomic.Uint64
	data                []byte
	pos                 uint64
}

// ringAt returns ring i (ringCalls or ringResults) of reg.
func ringAt(reg *shmRegion, i int) ring {
	ctl, start := i*ctlSize, shmHeader+i*ringSize
	word := func(off int) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&reg.mem[ctl+off])) }
	return ring{reg: reg, head: word(ctlHead), tail: word(ctlTail), waiting: word(ctlWaiting),
		data: reg.mem[start : start+ringSize : start+ringSize]}
}

// put copies what fits of p into the ring and publishes it.
func (r *ring) put(p []byte) (int, error) {
	used := r.pos - r.tail.Load() // a tail past pos wraps to more than ringSize
	if used > ringSize {
		return 0, errRingCorrupt
	}
	n := min(len(p), ringSize-int(used))
	if n == 0 {
		return 0, nil
	}
	off := int(r.pos % ringSize)
	k := copy(r.data[off:], p[:n])
	copy(r.data, p[k:n])
	r.pos += uint64(n)
	r.head.Store(r.pos)
	return n, nil
}

// get copies what the ring holds, up to len(p), and frees it.
func (r *ring) get(p []byte) (int, error) {
	avail := r.head.Load() - r.pos // a head behind pos wraps to more than ringSize
	if avail > ringSize {
		return 0, errRingCorrupt
	}
	n := min(len(p), int(avail))
	if n == 0 {
		return 0, nil
	}
	off := int(r.pos % ringSize)
	k := copy(p[:n], r.data[off:])
	copy(p[k:n], r.data)
	r.pos += uint64(n)
	r.tail.Store(r.pos)
	return n, nil
}

func (r *ring) empty() bool { return r.head.Load() == r.pos }

// ringReader is the consuming end of a ring. An empty ring is polled for up to spin, as
// adapted below, then the reader parks: it sets the ring's waiting flag and reads its
// doorbell, a pollable pipe, so read deadlines set on that pipe bound the wait, and the pipe's
// end, once the ring is drained, is the channel's end (io.EOF).
//
// A poll for the next frame is cheaper than the two cross-process wake-ups of a parked call,
// which on a virtual machine cost 5-15 µs each (BenchmarkPipeRoundTrip measures them), when
// the frame is due within microseconds. Polling adapts, as an adaptive mutex does: a read that
// found its frame within the spin (or at once) raises a score by two, a poll that ran out of
// time lowers it by one; at zero the reader parks at once and polls again only every
// spinRetry reads. A peer whose frames mostly come later than spin (more than two polls in
// three in vain) thus stops costing a core, while one that is usually quick keeps polling
// through the odd slow frame. Between polls it yields the processor.
type ringReader struct {
	r       ring
	bell    *os.File
	spin    time.Duration
	score   int // 0..spinScoreMax; polling while > 0
	skipped int // reads that parked without polling since the score reached 0
	eof     bool
	rings   [64]byte // doorbell bytes read at once
	yield   func()   // between polls: runtime.Gosched unless set (see politeYield)
}

const (
	spinScoreMax = 16
	spinRetry    = 16
	// maxEmptyWakes bounds the wake-ups one read may take with nothing in the ring. A writer
	// rings once per park it saw, so an honest one leaves at most a stale wake-up or two; a
	// writer that floods the doorbell would otherwise keep the reader busy until its deadline.
	maxEmptyWakes = 1000
)

// errDoorbellFlood is a read woken maxEmptyWakes times with nothing to read.
var errDoorbellFlood = errors.New("jsruntime: worker channel: woken again and again with nothing in the ring")

var _ io.Reader = (*ringReader)(nil)

func newRingReader(r ring, bell *os.File, spin time.Duration) *ringReader {
	return &ringReader{r: r, bell: bell, spin: spin, score: spinScoreMax, yield: runtime.Gosched}
}

func (rr *ringReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var start time.Time
	poll := rr.score > 0 || rr.skipped >= spinRetry
	polling, timedOut := poll, false
	for wakes := 0; ; {
		n, err := rr.r.get(p)
		if n == 0 && err == nil {
			switch {
			case rr.eof:
				err = io.EOF
			case poll:
				if start.IsZero() {
					start = time.Now()
				} else if time.Since(start) >= rr.spin {
					poll, timedOut = false, true
				}
				rr.yield()
				continue
			case wakes >= maxEmptyWakes:
				err = errDoorbellFlood
			default:
				if err = rr.park(); err == nil {
					wakes++
					continue
				}
			}
		}
		switch {
		case timedOut:
			rr.score, rr.skipped = max(rr.score-1, 0), 0
		case polling: // a frame within the spin, or one already there
			rr.score, rr.skipped = min(rr.score+2, spinScoreMax), 0
		default:
			rr.skipped++
		}
		return n, err
	}
}

// politeYield returns a yield between polls for a worker's reader. runtime.Gosched yields only
// to the worker's own goroutines (a call it runs meanwhile), on its one processor, so polling
// holds that processor against other processes that need it: the node, the other workers.
// Every eighth poll gives it up to them (yieldProcessor, which returns at once when none
// waits): on a loaded box several busy functions serve more, and a lone connection's round
// trips are a little slower; giving it up at every poll made them much slower
// (bench/README.md).
func politeYield() func() {
	n := 0
	return func() {
		if n++; n%8 == 0 {
			yieldProcessor()
			return
		}
		runtime.Gosched()
	}
}

// park waits for the doorbell, unless the ring filled meanwhile. The flag is set before the
// ring is looked at, and a writer publishes its bytes before it looks at the flag, so one of
// the two sees the other.
func (rr *ringReader) park() error {
	rr.r.waiting.Store(1)
	defer rr.r.waiting.Store(0)
	if !rr.r.empty() {
		return nil
	}
	_, err := rr.bell.Read(rr.rings[:])
	if err == io.EOF {
		rr.eof = true // what the writer left in the ring is still read
		return nil
	}
	return err
}

// ringWriter is the producing end of a ring. It rings the doorbell, a pipe it writes without
// waiting, when the reader parked. A ring that is full (a frame larger than the ring, or a
// reader that fell behind) is waited on by polling it, until the reader makes room, its end of
// the doorbell closes (syscall.EPIPE: its process is gone), or until passes (errRingStalled:
// a reader that is alive and takes nothing; the frame is then cut, and the channel unusable).
//
// Once the whole of p is in the ring, a doorbell that finds the reader gone is no error: the
// reader's own end says whether it took the bytes (workerProc.took).
type ringWriter struct {
	r     ring
	bell  syscall.RawConn
	until time.Time // zero: no limit; set by the writer's owner before each write
}

// errRingStalled is a write that found no room in a ring until its deadline.
var errRingStalled = errors.New("jsruntime: worker channel: the reader took nothing from a full ring")

var _ io.Writer = (*ringWriter)(nil)

func newRingWriter(r ring, bell *os.File) (*ringWriter, error) {
	rc, err := bell.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("jsruntime: worker channel: %w", err)
	}
	return &ringWriter{r: r, bell: rc}, nil
}

func (rw *ringWriter) Write(p []byte) (int, error) {
	written := 0
	for waits := 0; ; {
		n, err := rw.r.put(p[written:])
		if err != nil {
			return written, err
		}
		written += n
		if n > 0 {
			waits = 0
			if rw.r.waiting.Load() != 0 && rw.r.waiting.Swap(0) != 0 {
				if err := rw.ring(); err != nil && (written < len(p) || !errors.Is(err, syscall.EPIPE)) {
					return written, err
				}
			}
		}
		if written == len(p) {
			return written, nil
		}
		if waits++; waits <= 64 {
			runtime.Gosched()
			continue
		}
		if rev, err := pollNow(rw.bell, unix.POLLOUT); err != nil || rev&(unix.POLLERR|unix.POLLHUP) != 0 {
			return written, syscall.EPIPE
		}
		if !rw.until.IsZero() && time.Now().After(rw.until) {
			return written, errRingStalled
		}
		time.Sleep(min(time.Duration(waits-64)*20*time.Microsecond, time.Millisecond))
	}
}

var doorbell = []byte{1}

// ring writes one byte to the doorbell. A full pipe already holds wake-ups, so EAGAIN is no
// error.
func (rw *ringWriter) ring() error {
	var werr error
	err := rw.bell.Write(func(fd uintptr) bool {
		_, werr = syscall.Write(int(fd), doorbell)
		for werr == syscall.EINTR {
			_, werr = syscall.Write(int(fd), doorbell)
		}
		return true
	})
	if err != nil {
		return err
	}
	if werr == syscall.EAGAIN {
		return nil
	}
	return werr
}

// pollNow polls one descriptor for events without waiting and returns what it reported.
func pollNow(rc syscall.RawConn, events int16) (revents int16, err error) {
	cerr := rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		_, err = unix.Poll(fds, 0)
		for err == unix.EINTR {
			_, err = unix.Poll(fds, 0)
		}
		revents = fds[0].Revents
	})
	if cerr != nil {
		return 0, cerr
	}
	return revents, err
}

// pollableFile returns a pollable *os.File for f's descriptor, switching it to non-blocking
// mode: a worker's stdin and stdout arrive blocking. The caller must keep using the returned
// file, not f, and keep it alive as long as the descriptor is in use (its finalizer closes it).
func pollableFile(f *os.File) (*os.File, error) {
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}
