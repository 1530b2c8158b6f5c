// Package cluster joins edge nodes into a fleet with hashicorp/memberlist: it gossips the
// replicated State (the function registry) between nodes, fetches content-addressed code blobs
// from peers over the admin port, and carries fleet-wide cache purges.
//
// The cluster moves bytes; the State owns encoding and merge rules. Convergence has three paths,
// fastest first:
//
//   - deltas: a local change goes out as a named memberlist broadcast ((*Cluster).Broadcast);
//     every node that learns something new from a delta re-broadcasts it, as serf does;
//   - digests: a node whose State digest changed piggybacks it on its gossip packets for a
//     second, and every probe ack carries it. A node that
//     learns a digest it never held, and still sees it after a settle delay of about
//     log2(fleet size) gossip rounds, runs a push/pull state exchange with that peer;
//   - anti-entropy: memberlist's periodic push/pull, and a periodic rejoin to the seeds and to
//     known-but-dead peers, which heals partitions longer than GossipToTheDeadTime (memberlist
//     does not re-merge those by itself).
//
// memberlist trusts every holder of the gossip key: it has no replay protection and is not
// Byzantine fault tolerant. Signing and monotonic sequences belong to the State.
package cluster
