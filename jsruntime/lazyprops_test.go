package jsruntime

import (
	"slices"
	"testing"

	"github.com/dop251/goja"
)

type countingBuilder struct{ built []int }

func (b *countingBuilder) build(i int) goja.Value {
	b.built = append(b.built, i)
	return goja.Undefined()
}

// TestLazyProps: keys enumerate in insertion order (a deleted and re-added key last), values
// are built once and only when read, and pristine tells untouched keys apart.
func TestLazyProps(t *testing.T) {
	var p lazyProps
	var vals [3]goja.Value
	b := &countingBuilder{}
	p.init(b, []string{"a", "b", "c"}, vals[:])
	one := goja.Null()
	p.Get("b")
	p.Get("b")
	if !slices.Equal(b.built, []int{1}) || p.pristine(1) || !p.pristine(0) || !p.unassigned(1) {
		t.Fatalf("after reading b twice: built %v, pristine b %v a %v", b.built, p.pristine(1), p.pristine(0))
	}
	p.Set("a", one)
	p.Delete("b")
	p.Set("x", one)
	p.Set("b", one)
	if got := p.Keys(); !slices.Equal(got, []string{"a", "c", "x", "b"}) {
		t.Fatalf("keys %v, want [a c x b]", got)
	}
	if p.pristine(0) || p.unassigned(0) || !p.pristine(2) || p.Get("b") != one || !p.Has("x") || p.Has("y") {
		t.Fatal("assigned, deleted or added keys misreported")
	}
	p.Delete("x")
	p.Delete("nope")
	if got := p.Keys(); !slices.Equal(got, []string{"a", "c", "b"}) {
		t.Fatalf("keys %v after deleting x, want [a c b]", got)
	}
}

// TestEventValuesFit: one event's objects together never need more values than leEvent holds.
func TestEventValuesFit(t *testing.T) {
	most := 0
	for _, r := range shapeRequest {
		for _, s := range r {
			most = max(most, len(s.keys))
		}
	}
	n := len(shapeRoot.keys) + len(shapeRecord.keys) + len(shapeCFResp.keys) + len(shapeConfig.keys) + most + len(shapeResponse.keys)
	if n > len(leEvent{}.vals) {
		t.Fatalf("an event's objects need %d values, leEvent has room for %d", n, len(leEvent{}.vals))
	}
}
