// Package e2e holds tests that run Verge's parts together through real sockets: the function
// corpus of jsruntime/testdata run through the proxy. It has no code of its own.
package e2e
