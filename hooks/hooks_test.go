package hooks

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHeaders(t *testing.T) {
	h := Headers{{"Cookie", "a=1"}, {"X-Thing", "x"}, {"cookie", "b=2"}}
	if got := h.Values("COOKIE"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Fatalf("Values = %v", got)
	}
	if h.Get("x-thing") != "x" || h.Get("absent") != "" || !h.Has("X-THING") || h.Has("absent") {
		t.Fatal("Get/Has ignore case")
	}
	c := h.Clone()
	c.Set("cookie", "c=3")
	if want := (Headers{{"Cookie", "c=3"}, {"X-Thing", "x"}}); !equal(c, want) {
		t.Fatalf("Set = %v, want %v (first position, original name kept)", c, want)
	}
	if h.Get("Cookie") != "a=1" {
		t.Fatal("Set on a clone changed the original")
	}
	c.Del("X-THING")
	c.Add("New", "v")
	if want := (Headers{{"Cookie", "c=3"}, {"New", "v"}}); !equal(c, want) {
		t.Fatalf("Del/Add = %v", c)
	}
	if (Headers{{"A", "bc"}}).Size() != len("A: bc\r\n") {
		t.Fatal("Size")
	}
}

func equal(a, b Headers) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{
		"user-agent": "User-Agent", "X-FORWARDED-FOR": "X-Forwarded-For", "etag": "Etag",
		"x-amz-cf-id": "X-Amz-Cf-Id", "": "", "a--b": "A--B",
	} {
		if got := CanonicalName(in); got != want {
			t.Errorf("CanonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStages(t *testing.T) {
	for _, s := range Stages {
		p, err := ParseStage(s.String())
		if err != nil || p != s {
			t.Fatalf("round trip of %v: %v, %v", s, p, err)
		}
	}
	if _, err := ParseStage("viewer"); err == nil {
		t.Fatal("ParseStage accepted a bad name")
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		err    error
		status int
		le     string
		cff    string
	}{
		{errors.New("plain"), 503, "LambdaExecutionError", "FunctionExecutionError"},
		{Errorf(Validation, "x"), 502, "LambdaValidationError", "FunctionValidationError"},
		{Errorf(Timeout, "x"), 503, "LambdaLimitExceeded", "FunctionExecutionError"},
		{Errorf(Throttled, "x"), 503, "LambdaLimitExceeded", "FunctionThrottledError"},
	}
	for _, tt := range tests {
		k := KindOf(tt.err)
		if k.Status() != tt.status || LambdaEdge.ResultType(k) != tt.le || CloudFrontFunctions.ResultType(k) != tt.cff {
			t.Errorf("%v: %d %s %s", tt.err, k.Status(), LambdaEdge.ResultType(k), CloudFrontFunctions.ResultType(k))
		}
	}
}

func TestGoRegistry(t *testing.T) {
	r := NewGoRegistry()
	f := GoFunc(func(context.Context, *Event) (Result, error) { return Result{}, nil })
	if err := r.Register("a", f); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("a", f); err == nil {
		t.Fatal("a second registration of one name must fail, not panic or replace")
	}
	if _, ok := r.Lookup("a"); !ok {
		t.Fatal("Lookup")
	}
	if _, ok := r.Lookup("b"); ok {
		t.Fatal("Lookup of a missing name")
	}
}

func TestWithDeadline(t *testing.T) {
	d := time.Now().Add(time.Hour)
	ctx := WithDeadline(context.Background(), d)
	if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline() = %v, %v; want %v", got, ok, d)
	}
	if ctx.Done() != nil || ctx.Err() != nil {
		t.Fatal("WithDeadline armed a timer: Done or Err is not the parent's")
	}
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Minute))
	defer cancel()
	pd, _ := parent.Deadline()
	ctx = WithDeadline(parent, d)
	if got, _ := ctx.Deadline(); !got.Equal(pd) {
		t.Fatalf("Deadline() = %v, want the parent's earlier %v", got, pd)
	}
	cancel()
	if ctx.Err() == nil {
		t.Fatal("the parent's cancellation does not reach the child")
	}
}

func TestAppendedTo(t *testing.T) {
	in := Headers{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}}
	for _, tc := range []struct {
		name  string
		out   Headers
		added int // -1: not an append
	}{
		{"same", in.Clone(), 0},
		{"appended", append(in.Clone(), Header{Name: "C", Value: "3"}), 1},
		{"changed", Headers{{Name: "A", Value: "1"}, {Name: "B", Value: "x"}}, -1},
		{"shorter", in[:1], -1},
		{"reordered", Headers{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}}, -1},
	} {
		added, ok := tc.out.AppendedTo(in)
		if ok != (tc.added >= 0) || ok && len(added) != tc.added {
			t.Errorf("%s: added %v, ok %v", tc.name, added, ok)
		}
	}
}
