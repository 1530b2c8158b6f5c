package jsruntime

import (
	"fmt"
	"os"
	"time"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/kvs"
)

// KeyValueStore is the store a CloudFront function (runtime 2.0) reads with cf.kvs(): Name is
// the id cf.kvs(id) accepts (an empty Name accepts any id: verge fn test's --kvs file stands
// for whichever store the code names), and Snapshot returns the store's current contents (nil while the
// store does not exist, read as empty). Snapshot is called at every read, so a function sees
// a change at its next read without being redeployed; it must be cheap and safe for
// concurrent use (kvs.Stores.Source is).
type KeyValueStore struct {
	Name     string
	Snapshot func() *kvs.Snapshot
}

// EdgeLocation is cf.edgeLocation at viewer-request: the node's location code (CloudFront's
// IATA-style name), its address, and its region.
type EdgeLocation struct {
	Name     string `json:"name"`
	ServerIP string `json:"serverIp"`
	Region   string `json:"region"`
}

// cffCall is a vm's state for the running CloudFront function invocation.
type cffCall struct {
	stage  hooks.Stage
	source []byte              // the event file's JSON, when verge fn test gave one
	choice *hooks.OriginChoice // the origin calls' choice (cff_origin.go)
	// The event's headers objects (nil when the event came from a file's JSON): decoding
	// reads what JS touched of them and copies the rest.
	reqHeaders, respHeaders *lazyCFFHeaders
}

// cff reports whether o runs a CloudFront function (either runtime).
func (o *Options) cff() bool { return hooks.IsCloudFrontFunctions(o.Runtime) }

// cloudFrontNatives are the natives of the cloudfront module (js/cloudfront.js), for runtime
// 2.0 only: without them the module refuses to load. They reach only o.KVS, the store
// associated with this function. Runtime 1.0 gets byteStringDigest instead: its crypto
// digest() with no encoding returns a byte string, where 2.0's returns a Buffer.
var cloudFrontNatives = []nativeHelper{
	{name: "byteStringDigest", only: RuntimeCloudFrontJS1, fn: func(*vm, goja.FunctionCall) goja.Value { return goja.Undefined() }},
	{name: "kvsName", only: RuntimeCloudFrontJS2, fn: func(v *vm, _ goja.FunctionCall) goja.Value {
		if o := &v.p.opts; o.KVS != nil {
			return v.rt.ToValue(o.KVS.Name)
		}
		return goja.Undefined()
	}},
	{name: "kvsGet", only: RuntimeCloudFrontJS2, fn: func(v *vm, c goja.FunctionCall) goja.Value {
		if s := v.kvsSnapshot(); s != nil {
			if val, ok := s.Get(c.Argument(0).String()); ok {
				return v.rt.ToValue(val)
			}
		}
		return goja.Undefined()
	}},
	{name: "kvsMeta", only: RuntimeCloudFrontJS2, fn: func(v *vm, _ goja.FunctionCall) goja.Value {
		m := v.rt.NewObject()
		s := v.kvsSnapshot()
		if s == nil {
			s = &kvs.Snapshot{}
		}
		_ = m.Set("creationDateTime", s.Created.UTC().Format(time.RFC3339))
		_ = m.Set("lastUpdatedDateTime", s.Updated.UTC().Format(time.RFC3339))
		_ = m.Set("keyCount", len(s.Data))
		return m
	}},
	{name: "edgeLocation", only: RuntimeCloudFrontJS2, fn: func(v *vm, _ goja.FunctionCall) goja.Value {
		if v.cf.stage != hooks.ViewerRequest {
			return goja.Undefined()
		}
		o := &v.p.opts
		l := v.rt.NewObject()
		_ = l.Set("name", o.EdgeLocation.Name)
		_ = l.Set("serverIp", o.EdgeLocation.ServerIP)
		_ = l.Set("region", o.EdgeLocation.Region)
		return l
	}},
	{name: "cfOrigin", only: RuntimeCloudFrontJS2, fn: (*vm).cfOrigin},
}

// kvsSnapshot returns the current contents of the function's store, nil when it has none.
func (v *vm) kvsSnapshot() *kvs.Snapshot {
	if o := &v.p.opts; o.KVS != nil && o.KVS.Snapshot != nil {
		return o.KVS.Snapshot()
	}
	return nil
}

// LoadKeyValueStore reads a store in CloudFront's import format for an offline run (verge fn
// test --kvs). Its Name is empty, so cf.kvs(id) accepts whatever id the code names.
func LoadKeyValueStore(file string) (*KeyValueStore, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("jsruntime: kvs: %w", err)
	}
	data, err := kvs.ParseImport(b)
	if err != nil {
		return nil, fmt.Errorf("jsruntime: %s: %w", file, err)
	}
	st, _ := os.Stat(file)
	snap := kvs.SnapshotOf("", data)
	if st != nil {
		snap.Created, snap.Updated = st.ModTime().UTC(), st.ModTime().UTC()
	}
	return &KeyValueStore{Snapshot: func() *kvs.Snapshot { return snap }}, nil
}
