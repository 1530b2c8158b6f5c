package jsruntime

import (
	"sync/atomic"

	"github.com/vergecdn/verge/kvs"
)

// frameKVS (parent -> worker) carries the contents of the KeyValueStore associated with one
// program in the worker, as JSON (wireKVS). The parent sends it before a call of that program
// whenever the store changed since the last one it sent that program in that worker, through
// the same ring and under the same lock as calls, so the worker applies it before reading the
// call. Each program receives only its own store, whoever else shares its worker (deploy
// shares one only among the versions of a function). Functions without a store never send one: their calls are unchanged.
const frameKVS = 'K'

// wireKVS is a frameKVS body.
type wireKVS struct {
	Program uint64        `json:"program"`
	Store   *kvs.Snapshot `json:"store"`
}

// wireCloudFront is the part of a program's load frame that CloudFront functions use.
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

// apply gives o (in the worker) the store named at load, read from the snapshots the parent
// sends; the returned holder receives them.
func (w wireCloudFront) apply(o *Options) *kvsHolder {
	h := &kvsHolder{}
	o.EdgeLocation = w.EdgeLocation
	if w.HasKVS {
		o.KVS = &KeyValueStore{Name: w.KVSName, Snapshot: h.snap.Load}
	}
	return h
}

// kvsHolder is a worker's copy of one program's store.
type kvsHolder struct{ snap atomic.Pointer[kvs.Snapshot] }

// syncKVS sends program's store to the worker when it changed since the last send to that
// program. The caller holds w.wmu.
func (w *workerProc) syncKVS(program uint64, store *KeyValueStore) error {
	if store == nil || store.Snapshot == nil {
		return nil
	}
	s := store.Snapshot()
	if s == nil || s == w.kvsSent[program] {
		return nil
	}
	if err := writeFrame(w.out, frameKVS, wireKVS{Program: program, Store: s}); err != nil {
		return err
	}
	w.kvsSent[program] = s
	return nil
}
