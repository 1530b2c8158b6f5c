package jsruntime

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vergecdn/verge/hooks"
)

// The worker protocol: frames of a 4-byte big-endian length, one type byte and a body, through
// the worker's channel (shmring.go): requests in one ring, replies in the other. A worker hosts one or more programs (the
// versions of one function, see WorkerGroup): the init frame sets up the process, a load frame
// compiles a program under an id the parent chose, an unload frame drops it, and every call
// names its program. Init, load and unload frames are JSON; call and result frames use the
// binary codec of wirecodec.go. Calls and loads are multiplexed by id (one id space per
// process); replies may arrive in any order.
const (
	frameInit       = 'I' // parent -> worker: workerInit
	frameInitReply  = 'i' // worker -> parent: initReply
	frameLoad       = 'L' // parent -> worker: loadFrame
	frameLoaded     = 'l' // worker -> parent: loadReply
	frameUnload     = 'U' // parent -> worker: unloadFrame
	frameCall       = 'C' // parent -> worker: wireCall
	frameResult     = 'R' // worker -> parent: wireResult
	maxFrame        = 64 << 20
	frameHeaderSize = 5
)

// workerInit is what a worker applies to itself before it loads any code: the process-level
// settings every program it will host shares (see hostKey).
type workerInit struct {
	MemoryMB   int   `json:"memoryMB"`   // address-space headroom (RLIMIT_AS above the start-up size)
	GoMemLimit int64 `json:"goMemLimit"` // bytes, for debug.SetMemoryLimit
	MaxProcs   int   `json:"maxProcs"`   // the node's GOMAXPROCS: the most the worker takes (procScaler)
}

// initReply is the worker's answer to workerInit, once its limits and sandbox are in place.
type initReply struct {
	// Sandbox says which confinements the kernel allowed (see sandbox).
	Sandbox string `json:"sandbox,omitempty"`
}

// loadFrame asks the worker to compile a program and warm its pool; ID is the request's id
// (its reply carries it), Program the id later calls and unloads name.
type loadFrame struct {
	ID         uint64         `json:"id"`
	Program    uint64         `json:"program"`
	Options    wireOptions    `json:"options"`
	CloudFront wireCloudFront `json:"cloudFront"` // cff_wire.go
}

// loadReply answers a loadFrame: empty when the program is ready, else why not. A syntax
// error travels typed, so the node reports its position without parsing text.
type loadReply struct {
	ID     uint64       `json:"id"`
	Error  string       `json:"error,omitempty"`
	Syntax *SyntaxError `json:"syntax,omitempty"`
}

// unloadFrame drops a program: its idle runtimes at once, its running calls when they end.
type unloadFrame struct {
	Program uint64 `json:"program"`
}

// wireOptions is the serialisable part of Options.
type wireOptions struct {
	Name, Version, Runtime string
	Code                   Code
	Limits                 hooks.Limits
	MinWarm                int
	MaxConcurrency         int
	IdleTimeout            time.Duration
	InitTimeout            time.Duration
	MaxCallDepth           int
	MaxSourceBytes         int
	MaxNesting             int
	MaxLogBytes            int
	RegexpTimeout          time.Duration
	RefuseEval             bool
	Env                    map[string]string
}

func toWire(o Options) wireOptions {
	return wireOptions{Name: o.Name, Version: o.Version, Runtime: o.Runtime, Code: o.Code, Limits: o.Limits,
		MinWarm: o.MinWarm, MaxConcurrency: o.MaxConcurrency, IdleTimeout: o.IdleTimeout, InitTimeout: o.InitTimeout,
		MaxCallDepth: o.MaxCallDepth, MaxSourceBytes: o.MaxSourceBytes, MaxNesting: o.MaxNesting,
		MaxLogBytes: o.MaxLogBytes, RegexpTimeout: o.RegexpTimeout, RefuseEval: o.RefuseEval, Env: o.Env}
}

func (w wireOptions) options() Options {
	return Options{Name: w.Name, Version: w.Version, Runtime: w.Runtime, Code: w.Code, Limits: w.Limits,
		MinWarm: w.MinWarm, MaxConcurrency: w.MaxConcurrency, IdleTimeout: w.IdleTimeout, InitTimeout: w.InitTimeout,
		MaxCallDepth: w.MaxCallDepth, MaxSourceBytes: w.MaxSourceBytes, MaxNesting: w.MaxNesting,
		MaxLogBytes: w.MaxLogBytes, RegexpTimeout: w.RegexpTimeout, RefuseEval: w.RefuseEval, Env: w.Env}
}

// wireCall and wireResult are the call and result frames (binary, see wirecodec.go).
type wireCall struct {
	ID        uint64
	Program   uint64 // the loaded program to run (loadFrame.Program)
	Event     *hooks.Event
	Deadline  int64 // Unix nanoseconds
	RequestID string
	WantJSON  bool
}

type wireResult struct {
	ID      uint64
	Result  hooks.Result
	Output  string
	Logs    []LogLine
	HasErr  bool
	ErrKind hooks.Kind
	ErrMsg  string
	Cold    bool
	InUse   int
	Idle    int
	// Load is the answer to a load frame (frameLoaded, JSON), which the readers hand out as
	// they do results, by id; the binary codec never carries it.
	Load *loadReply
}

func (r *wireResult) outcome() outcome {
	out := outcome{result: r.Result, logs: r.Logs}
	if r.Output != "" {
		out.output = []byte(r.Output)
	}
	if r.HasErr {
		out.err = &hooks.Error{Kind: r.ErrKind, Err: errors.New(r.ErrMsg)}
	}
	return out
}

// writeFrame writes one frame. Callers serialise writes to w.
func writeFrame(w io.Writer, typ byte, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("jsruntime: worker protocol: %w", err)
	}
	buf := make([]byte, frameHeaderSize+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)+1))
	buf[4] = typ
	copy(buf[frameHeaderSize:], body)
	_, err = w.Write(buf)
	return err
}

// readFrame reads one frame's type and body.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 1 || n > maxFrame {
		return 0, nil, fmt.Errorf("jsruntime: worker protocol: bad frame length %d", n)
	}
	body := make([]byte, n-1)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return hdr[4], body, nil
}

// writeBinaryFrame writes one frame whose body fill encodes with the binary codec.
func writeBinaryFrame(w io.Writer, typ byte, fill func(*wenc)) error {
	b, err := appendBinaryFrame(make([]byte, 0, 1024), typ, fill)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// appendBinaryFrame appends one whole frame (header included) to b, so a frame is written
// with one Write from a buffer the caller reuses.
func appendBinaryFrame(b []byte, typ byte, fill func(*wenc)) ([]byte, error) {
	start := len(b)
	e := wenc{b: append(b, 0, 0, 0, 0, typ)}
	fill(&e)
	if len(e.b)-start-4 > maxFrame {
		return b, fmt.Errorf("jsruntime: worker protocol: frame of %d bytes", len(e.b)-start)
	}
	binary.BigEndian.PutUint32(e.b[start:], uint32(len(e.b)-start-4))
	return e.b, nil
}

// maxKeptFrameBuffer is the largest frame buffer kept for reuse; a larger one (a big body)
// is dropped after its write.
const maxKeptFrameBuffer = 64 << 10

// frameReader reads frames from r into its own buffer. Unlike readFrame it loses nothing when
// a read fails part-way through a frame (a read deadline), so reading can resume later. The
// body next returns is valid until the following call.
type frameReader struct {
	r    io.Reader
	buf  []byte // buf[off:] is unread
	off  int
	size int // the buffer to read into: 4 KiB, doubled up to 64 KiB by reads that fill it
}

// The frameReader's buffer starts small, since a node keeps one per worker and most idle,
// and grows while reads fill it, as they do when many results wait at once under load.
const (
	frameReadMin = 4 << 10
	frameReadMax = 64 << 10
)

func (f *frameReader) next() (byte, []byte, error) {
	for {
		if n := len(f.buf) - f.off; n >= frameHeaderSize {
			size := binary.BigEndian.Uint32(f.buf[f.off:])
			if size < 1 || size > maxFrame {
				return 0, nil, fmt.Errorf("jsruntime: worker protocol: bad frame length %d", size)
			}
			if end := f.off + 4 + int(size); end <= len(f.buf) {
				typ, body := f.buf[f.off+4], f.buf[f.off+frameHeaderSize:end]
				f.off = end
				return typ, body, nil
			}
		}
		f.fill()
		room := cap(f.buf) - len(f.buf)
		k, err := f.r.Read(f.buf[len(f.buf):cap(f.buf)])
		f.buf = f.buf[:len(f.buf)+k]
		if k == room {
			f.size = min(2*f.size, frameReadMax)
		}
		if k == 0 && err != nil {
			return 0, nil, err
		}
	}
}

// fill makes room for the next read: unread bytes move to the front, and the buffer grows to
// size, or to hold a whole frame (a large one is released once it has been read).
func (f *frameReader) fill() {
	unread := len(f.buf) - f.off
	f.size = max(f.size, frameReadMin)
	need := f.size
	if unread >= frameHeaderSize {
		need = max(need, 4+int(binary.BigEndian.Uint32(f.buf[f.off:]))+frameHeaderSize)
	}
	if cap(f.buf) > 4*maxKeptFrameBuffer && need <= frameReadMax || cap(f.buf) < need {
		nb := make([]byte, unread, need)
		copy(nb, f.buf[f.off:])
		f.buf, f.off = nb, 0
		return
	}
	if f.off > 0 {
		copy(f.buf, f.buf[f.off:])
		f.buf, f.off = f.buf[:unread], 0
	}
}
