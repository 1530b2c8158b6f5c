package jsruntime

import (
	"io"
	"os"
	"runtime"
	"syscall"
	"time"
)

// spinReader reads a non-blocking pipe, polling it for up to spin before it parks in the
// netpoller. A call to a worker process is two cross-process wake-ups, and on a virtual
// machine each costs 5-15 µs, more than a warm invocation itself: a 400-byte round trip
// between two processes took 17 µs with both ends parking and 4 µs with both polling for up
// to 20 µs (a one-off program on the 2-core VM of bench/README.md; BenchmarkPipeRoundTrip
// measures the parked case). A frame that is due within microseconds is cheaper to poll for. Between polls it yields the processor, so on a busy
// node other goroutines run and the poll costs one read(2) per turn.
//
// Polling adapts, as an adaptive mutex does: a read that found its frame within the spin (or
// at once) raises a score by two, a poll that ran out of time lowers it by one; at zero the
// reader parks at once and polls again only every spinRetry reads. A peer whose frames mostly
// come later than spin (more than two polls in three in vain) thus stops costing a core, while
// one that is usually quick keeps polling through the odd slow frame.
type spinReader struct {
	rc      syscall.RawConn
	spin    time.Duration
	score   int // 0..spinScoreMax; polling while > 0
	skipped int // reads that parked without polling since the score reached 0
}

const (
	spinScoreMax = 16
	spinRetry    = 16
)

var _ io.Reader = (*spinReader)(nil)

// newSpinReader reads f, which must be pollable (a pipe from os.Pipe or exec's StdoutPipe, or
// one made pollable by pollableFile). Read deadlines set on f apply once it parks.
func newSpinReader(f *os.File, spin time.Duration) (*spinReader, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &spinReader{rc: rc, spin: spin, score: spinScoreMax}, nil
}

func (r *spinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	var start time.Time
	poll := r.score > 0 || r.skipped >= spinRetry
	polling, timedOut := poll, false
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			m, err := syscall.Read(int(fd), p)
			switch {
			case m > 0:
				n = m
				return true
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				if !poll {
					return false // park until readable (or the read deadline)
				}
				if start.IsZero() {
					start = time.Now()
				} else if time.Since(start) >= r.spin {
					poll, timedOut = false, true
					return false
				}
				runtime.Gosched()
			case err != nil:
				rerr = err
				return true
			default:
				rerr = io.EOF
				return true
			}
		}
	})
	switch {
	case timedOut:
		r.score, r.skipped = max(r.score-1, 0), 0
	case polling: // a frame within the spin, or one already there
		r.score, r.skipped = min(r.score+2, spinScoreMax), 0
	default:
		r.skipped++
	}
	if err != nil {
		return n, err
	}
	return n, rerr
}

// pollableFile returns a pollable *os.File for f's descriptor, switching it to non-blocking
// mode: a worker's stdin arrives blocking. The caller must keep using the returned file, not
// f, and keep it alive as long as the descriptor is in use (its finalizer closes it).
func pollableFile(f *os.File) (*os.File, error) {
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}
