// Package hostile holds the hostile-function tests of jsruntime: scripts that loop forever,
// exhaust memory or the stack, or tamper with built-ins, run under Process isolation so that
// the ones that kill their process kill only a worker. It has no non-test code.
package hostile
