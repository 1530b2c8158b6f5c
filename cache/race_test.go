//go:build race

package cache

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// ristretto's pooled read buffers allocate and allocation counts lie.
const raceEnabled = true
