// Package registry is Verge's durable function registry: functions and their mutable $LATEST
// code, immutable numbered versions, aliases (optionally weighted between two versions),
// associations of behaviors' event types with function qualifiers, and an audit log of every
// change. Records live in a bbolt database and code in content-addressed blob files under the
// data directory; every acknowledged change has been fsynced, and a crash at any moment never
// exposes half-written state. A change feed (Subscribe) tells the activator that something
// changed, locally or by a merge from the fleet.
//
// # Replication
//
// A Replica (replica.go) is the registry's side of the cluster seam (cluster.State and
// cluster.Blobs). Every record carries a Stamp: a hybrid logical clock reading (Time,
// Logical) and the writing node. Merges are commutative, associative and idempotent:
//
//   - Mutable records ($LATEST with the function's settings, aliases, associations) are
//     last-writer-wins by (HLC, node); equal stamps (a hostile peer only) fall back to the
//     greater encoding. A function's LastVersion is a high-water mark and merges by maximum.
//   - Deletions are Tombstones, last-writer-wins per key. A tombstone deletes only records
//     stamped before it (a deletion beats an older write and loses to a newer one); a
//     function's tombstone covers its versions and aliases too. Tombstones are compacted after
//     ReplicaOptions.TombstoneTTL (30 days); a function's becomes its Mark's Floor, below which
//     records of the function are ignored, so a replayed old record stays dead.
//   - Published versions are immutable and merge by union, identified by (function, number,
//     publishing node). When two nodes publish the same number concurrently, the version
//     with the smaller publish stamp (HLC, then node id) keeps the number on every node
//     (State.Versions); the other is kept, shadowed (State.Shadowed), never rewritten.
//     Aliases and associations pin the version they named when they were written (the
//     *Node fields), so what was live anywhere is never silently replaced under the same
//     number; a bare number written afterwards means the winner. A function's Mark keeps
//     the highest number ever seen, so numbers are never reused, even after the function
//     is deleted and created again.
//   - Records stamped more than ReplicaOptions.MaxClockSkew ahead of the local clock are
//     left out until the clock catches up; remote state is bounded (MaxStateBytes) and
//     checked record by record before anything is applied.
//
// A remote version whose code blob is not held here is recorded, but Runnable reports it
// not ready until the blob has been fetched from a peer and verified against its sha256;
// the activator keeps the previous target meanwhile. With a fleet key (Trust), only versions
// whose Manifest is signed by the fleet's private key enter from peers or run here.
// Versions held that the key does not verify are signed, by a node holding the private key,
// or quarantined outside the replicated state, never deleted (quarantine.go).
package registry
