package jsruntime

import (
	"context"
	"testing"

	"github.com/vergecdn/verge/hooks"
)

// TestLazyGlobalsFrozen checks Node's globals where code froze the global object before it
// read them (as hardening code does): each still reads as one value. The expected body is
// what Node prints for the same expressions.
func TestLazyGlobalsFrozen(t *testing.T) {
	src := `Object.freeze(globalThis);
exports.handler = async () => ({ status: '200', body: [typeof Buffer, Buffer === Buffer, typeof setTimeout, console === console, Object.isFrozen(globalThis)].join(',') });`
	f, err := New(Options{Code: SingleFile(src)})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := f.Invoke(context.Background(), seedEvent(t, hooks.ViewerRequest))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Response.Body), "function,true,function,true,true"; got != want {
		t.Fatalf("body %q, want %q", got, want)
	}
}
