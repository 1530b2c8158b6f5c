package jsruntime

import (
	"encoding/json"
	"sync/atomic"

	"github.com/vergecdn/verge/kvs"
)

// frameKVS (parent -> worker) carries the contents of the KeyValueStore associated with the
// worker's function, as JSON (kvs.Snapshot). The parent sends it before a call whenever the
// store changed since the last one it sent to that worker, on the same pipe and under the same
// lock as calls, so the worker applies it before reading that call. A worker hosts one
// function, and the parent sends only that function's store: a worker never sees another
// function's stores. Functions without a store never send one: their calls are unchanged.
const frameKVS = 'K'

// wireCloudFront is the part of a worker's init that CloudFront functions use.
type wireCloudFront struct {
	HasKVS       bool         `json:"hasKVS,omitempty"`
	KVSName      string       `json:"kvsName,omitempty"`
	EdgeLocation EdgeLocation `json:"edgeLocation"`
}

func cloudFrontInit(o Options) wireCloudFront {
	w := wireCloudFront{EdgeLocation: o.EdgeLocation}
	if o.KVS != nil {
		w.HasKVS, w.KVSName = true, o.KVS.Name
	}
	return w
}

// apply gives o (in the worker) the store named at init, read from the snapshots the parent
// sends; the returned holder receives them.
func (w wireCloudFront) apply(o *Options) *kvsHolder {
	h := &kvsHolder{}
	o.EdgeLocation = w.EdgeLocation
	if w.HasKVS {
		o.KVS = &KeyValueStore{Name: w.KVSName, Snapshot: h.snap.Load}
	}
	return h
}

// kvsHolder is a worker's copy of its function's store.
type kvsHolder struct{ snap atomic.Pointer[kvs.Snapshot] }

// receive installs a frameKVS body. A malformed one is dropped (the parent never sends one).
func (h *kvsHolder) receive(body []byte) {
	var s kvs.Snapshot
	if json.Unmarshal(body, &s) == nil {
		h.snap.Store(&s)
	}
}

// syncKVS sends the function's store to the worker when it changed since the last send. The
// caller holds w.wmu.
func (w *workerProc) syncKVS() error {
	if w.kvs == nil || w.kvs.Snapshot == nil {
		return nil
	}
	s := w.kvs.Snapshot()
	if s == nil || s == w.kvsSent {
		return nil
	}
	if err := writeFrame(w.stdin, frameKVS, s); err != nil {
		return err
	}
	w.kvsSent = s
	return nil
}
