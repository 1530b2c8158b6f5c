package kvs

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// importFile is CloudFront's KeyValueStore import format: {"data":[{"key":..,"value":..}]}.
type importFile struct {
	Data []struct {
		Key   *string `json:"key"`
		Value *string `json:"value"`
	} `json:"data"`
}

// ParseImport reads CloudFront's import format into key/value pairs, checking every item
// against the limits. A key given twice keeps its last value, as a sequence of puts would.
func ParseImport(b []byte) (map[string]string, error) {
	var f importFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("kvs: %w: import file: %v (want {\"data\":[{\"key\":...,\"value\":...}]})", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("kvs: %w: import file: data after the JSON object", ErrInvalid)
	}
	if f.Data == nil {
		return nil, fmt.Errorf("kvs: %w: import file: no \"data\" array", ErrInvalid)
	}
	out := make(map[string]string, len(f.Data))
	size := 0
	for i, it := range f.Data {
		if it.Key == nil || it.Value == nil {
			return nil, fmt.Errorf("kvs: %w: import file: data[%d] needs a string key and value", ErrInvalid, i)
		}
		if err := CheckItem(*it.Key, *it.Value); err != nil {
			return nil, fmt.Errorf("import file: data[%d]: %w", i, err)
		}
		if old, ok := out[*it.Key]; ok {
			size -= len(*it.Key) + len(old)
		}
		out[*it.Key] = *it.Value
		size += len(*it.Key) + len(*it.Value)
		if size > MaxStoreBytes {
			return nil, fmt.Errorf("kvs: %w: import file: over the store limit of %d bytes at data[%d]", ErrTooLarge, MaxStoreBytes, i)
		}
	}
	return out, nil
}

// SnapshotOf returns a snapshot named name holding data, for tools that run a function
// against a store offline (verge fn test --kvs).
func SnapshotOf(name string, data map[string]string) *Snapshot {
	return &Snapshot{Name: name, Data: data}
}
