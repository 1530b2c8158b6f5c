package registry

import (
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/kvs"
)

// Upload is new $LATEST code for a function.
type Upload struct {
	// Runtime is a runtime name (hooks.CanonicalRuntime; default RuntimeLambdaEdge).
	Runtime string
	// Description replaces the function's description when not empty.
	Description string
	// Package is one JavaScript file or a zip archive (see Unpack).
	Package []byte
	// Entry is the handler's file in a zip (see Unpack).
	Entry string
	// KVS names the KeyValueStore a CloudFront function reads with cf.kvs() ("" for none). As
	// CloudFront's UpdateFunction takes the whole FunctionConfig, every upload sets it.
	KVS string
}

// Prepare validates an upload without storing it: the runtime, the package limits (an
// upload is held to the largest limit for its runtime; see Limits) and the package's
// structure. It returns the unpacked source, for the caller to compile before PutCode.
func (s *Store) Prepare(up Upload) (Source, error) {
	rt, err := runtimeOf(up.Runtime)
	if err != nil {
		return Source{}, err
	}
	switch {
	case up.KVS != "" && rt != RuntimeCloudFrontJS2:
		return Source{}, invalid("kvs %q: only cloudfront-js-2.0 functions read a KeyValueStore (this one is %s)", up.KVS, rt)
	case up.KVS != "" && !kvs.ValidName(up.KVS):
		return Source{}, invalid("kvs %q: a KeyValueStore name is 1-64 letters, digits, '-' or '_'", up.KVS)
	}
	if err := checkSize(int64(len(up.Package)), s.limits.ForUpload(rt), "package"); err != nil {
		return Source{}, err
	}
	return Unpack(up.Package, up.Entry, s.limits)
}

// runtimeOf returns the canonical name of an upload's runtime ("" is lambda-edge).
func runtimeOf(rt string) (string, error) {
	c, err := hooks.CanonicalRuntime(rt)
	if err != nil {
		return "", invalid("%v", err)
	}
	return c, nil
}

// PutCode creates function name, or replaces its $LATEST code, durably. The blob is stored
// before the record that names it is committed. Changing $LATEST while an association
// uses it is refused if the new code breaks the association's limits.
func (s *Store) PutCode(who, name string, up Upload) (Function, error) {
	if !ValidName(name) {
		return Function{}, invalid("function name %q: want 1-64 letters, digits, '-' or '_'", name)
	}
	src, err := s.Prepare(up)
	if err != nil {
		return Function{}, err
	}
	rt, _ := runtimeOf(up.Runtime)
	code := Code{Size: int64(len(up.Package)), Format: "js", Entry: src.Entry}
	for _, f := range src.Files {
		code.UnpackedSize += int64(len(f))
	}
	if IsZip(up.Package) {
		code.Format = "zip"
	}
	s.write.Lock()
	defer s.write.Unlock()
	if code.SHA256, err = s.blobs.put(up.Package); err != nil {
		return Function{}, err
	}
	var f Function
	var old string
	_, err = s.update(who, func(c *change) (AuditEntry, error) {
		b := c.tx.Bucket(bFunctions)
		found, err := getJSON(b, []byte(name), &f)
		if err != nil {
			return AuditEntry{}, err
		}
		if !found {
			mk, err := readMark(c.tx, name)
			if err != nil {
				return AuditEntry{}, err
			}
			f = Function{Name: name, Created: c.stamp.Time, LastVersion: mk.Versions}
		}
		old = f.Latest.SHA256
		f.Runtime, f.Latest, f.Stamp, f.KVS = rt, code, c.stamp, up.KVS
		if up.Description != "" {
			f.Description = up.Description
		}
		if err := putJSON(b, []byte(name), f); err != nil {
			return AuditEntry{}, err
		}
		if err := checkAssociationsOf(c.tx, name, s.limits); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "put-code", Target: name, Detail: fmt.Sprintf("sha256 %s, %d bytes, %s", code.SHA256[:12], code.Size, rt)}, nil
	})
	if err != nil {
		s.gc(code.SHA256)
		return Function{}, err
	}
	s.gc(old)
	return f, nil
}

// Publish makes $LATEST an immutable version with the next number (numbers are never
// reused). If $LATEST is unchanged since the newest version (same code and runtime), that
// version is returned with created false, as Lambda does.
func (s *Store) Publish(who, name, description string) (v Version, created bool, err error) {
	s.write.Lock()
	defer s.write.Unlock()
	_, err = s.update(who, func(c *change) (AuditEntry, error) {
		var f Function
		if found, err := getJSON(c.tx.Bucket(bFunctions), []byte(name), &f); err != nil || !found {
			return AuditEntry{}, orNotFound(err, "function %q", name)
		}
		vb := c.tx.Bucket(bVersions)
		if f.LastVersion > 0 {
			var last Version
			found, err := getJSON(vb, versionKey(name, f.LastVersion), &last)
			if err != nil {
				return AuditEntry{}, err
			}
			if found && last.Code.SHA256 == f.Latest.SHA256 && last.Runtime == f.Runtime && last.Code.Entry == f.Latest.Entry && last.KVS == f.KVS {
				v = last
				return AuditEntry{}, errUnchanged
			}
		}
		mk, err := readMark(c.tx, name)
		if err != nil {
			return AuditEntry{}, err
		}
		// LastVersion is a high-water mark that merges by maximum: the function keeps its
		// stamp (a publish does not overwrite a newer $LATEST written elsewhere).
		f.LastVersion = max(f.LastVersion, mk.Versions) + 1
		f.Revision = c.stamp.Revision
		v = Version{Function: name, Number: f.LastVersion, Runtime: f.Runtime, KVS: f.KVS, Description: description,
			Code: f.Latest, Created: c.stamp.Time, Node: c.stamp.Node, Logical: c.stamp.Logical, Revision: c.stamp.Revision}
		if v.Manifest, err = s.gate.sign(v, v.Created); err != nil {
			return AuditEntry{}, err
		}
		if err := putJSON(vb, versionKey(name, v.Number), v); err != nil {
			return AuditEntry{}, err
		}
		mk.Versions = v.Number
		if err := putJSON(c.tx.Bucket(bMarks), []byte(name), mk); err != nil {
			return AuditEntry{}, err
		}
		if err := putJSON(c.tx.Bucket(bFunctions), []byte(name), f); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "publish", Target: name + ":" + strconv.Itoa(v.Number), Detail: "sha256 " + v.Code.SHA256[:12]}, nil
	})
	if errors.Is(err, errUnchanged) {
		return v, false, nil
	}
	if err != nil {
		return Version{}, false, err
	}
	return v, true, nil
}

// errUnchanged rolls back a Publish that has nothing new to publish.
var errUnchanged = errors.New("registry: unchanged")

// DeleteFunction deletes a function with its versions and aliases. It is refused with a
// *ConflictError while an association names the function.
func (s *Store) DeleteFunction(who, name string) error {
	s.write.Lock()
	defer s.write.Unlock()
	var sums []string
	_, err := s.update(who, func(c *change) (AuditEntry, error) {
		st, err := readState(c.tx)
		if err != nil {
			return AuditEntry{}, err
		}
		f, ok := st.Functions[name]
		if !ok {
			return AuditEntry{}, notFound("function %q", name)
		}
		if as := st.AssociationsOf(name); len(as) > 0 {
			ce := &ConflictError{Target: "function " + name}
			for _, a := range as {
				ce.UsedBy = append(ce.UsedBy, "association "+a.Behavior+" "+a.Event)
			}
			return AuditEntry{}, ce
		}
		sums = append(sums, f.Latest.SHA256)
		for _, v := range st.Versions[name] {
			sums = append(sums, v.Code.SHA256)
		}
		for _, v := range st.Shadowed[name] {
			sums = append(sums, v.Code.SHA256)
		}
		mk, err := readMark(c.tx, name)
		if err != nil {
			return AuditEntry{}, err
		}
		mk.Versions = max(mk.Versions, f.LastVersion)
		if err := putJSON(c.tx.Bucket(bMarks), []byte(name), mk); err != nil {
			return AuditEntry{}, err
		}
		// The tombstone deletes the function, its versions and its aliases, here and on
		// every node, and shadows their older copies still in flight.
		m := &merger{tx: c.tx, rev: c.stamp.Revision}
		if err := m.tombstone(Tombstone{Kind: "function", Key: name, Stamp: c.stamp}); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "delete-function", Target: name}, nil
	})
	if err == nil {
		s.gc(sums...)
	}
	return err
}

// DeleteVersion deletes a published version. It is refused with a *ConflictError while an
// alias or an association uses it.
func (s *Store) DeleteVersion(who, name string, n int) error {
	s.write.Lock()
	defer s.write.Unlock()
	var sum string
	_, err := s.update(who, func(c *change) (AuditEntry, error) {
		st, err := readState(c.tx)
		if err != nil {
			return AuditEntry{}, err
		}
		v, ok := st.Versions[name][n]
		if !ok {
			if _, fok := st.Functions[name]; !fok {
				return AuditEntry{}, notFound("function %q", name)
			}
			return AuditEntry{}, &missingVersionError{function: name, number: n}
		}
		q := strconv.Itoa(n)
		ce := &ConflictError{Target: "version " + name + ":" + q}
		for _, a := range st.SortedAliases(name) {
			if a.Version == n || a.AdditionalVersion == n {
				ce.UsedBy = append(ce.UsedBy, "alias "+name+":"+a.Name)
			}
		}
		for _, a := range st.AssociationsOf(name) {
			if a.Qualifier == q {
				ce.UsedBy = append(ce.UsedBy, "association "+a.Behavior+" "+a.Event)
			}
		}
		if len(ce.UsedBy) > 0 {
			return AuditEntry{}, ce
		}
		sum = v.Code.SHA256
		m := &merger{tx: c.tx, rev: c.stamp.Revision}
		if err := m.tombstone(Tombstone{Kind: "version", Key: versionTombKey(name, n, v.Node), Stamp: c.stamp}); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "delete-version", Target: name + ":" + q}, nil
	})
	if err == nil {
		s.gc(sum)
	}
	return err
}

// gc removes the blobs among sums that no record references any more. The caller holds
// s.write, so no mutation can start referencing a blob meanwhile. Failures only leave an
// orphan file behind.
func (s *Store) gc(sums ...string) {
	if len(sums) == 0 {
		return
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		st, err := readState(tx)
		if err != nil {
			return err
		}
		used := map[string]bool{}
		for _, f := range st.Functions {
			used[f.Latest.SHA256] = true
		}
		for _, vs := range st.Versions {
			for _, v := range vs {
				used[v.Code.SHA256] = true
			}
		}
		for _, vs := range st.Shadowed {
			for _, v := range vs {
				used[v.Code.SHA256] = true
			}
		}
		_ = forEach(tx.Bucket(bQuar), func(v Version) { used[v.Code.SHA256] = true })
		for _, sum := range sums {
			if sum != "" && !used[sum] {
				_ = s.blobs.remove(sum)
			}
		}
		return nil
	})
}

func orNotFound(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return notFound(format, args...)
}

func readMark(tx *bolt.Tx, name string) (Mark, error) {
	mk := Mark{Function: name}
	_, err := getJSON(tx.Bucket(bMarks), []byte(name), &mk)
	return mk, err
}
