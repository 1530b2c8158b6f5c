package jsruntime

import (
	"testing"
	"time"
)

func TestPoolReapKeepsMinWarm(t *testing.T) {
	o := (&Options{Code: SingleFile(`exports.handler = async () => null`), MinWarm: 1, MaxConcurrency: 3, IdleTimeout: time.Minute}).withDefaults()
	p, err := compile(o)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	pl := newPool(p, nil)
	pl.now = func() time.Time { return now }
	defer pl.close()
	var vs []*vm
	for range 3 {
		v, _, err := pl.get()
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if _, _, err := pl.get(); err == nil {
		t.Fatal("a fourth runtime was handed out")
	}
	for _, v := range vs {
		v.lastUse = now
		pl.put(v, false)
	}
	if in, idle := pl.stats(); in != 0 || idle != 3 {
		t.Fatalf("in use %d, idle %d", in, idle)
	}
	pl.reap()
	if _, idle := pl.stats(); idle != 3 {
		t.Fatalf("reaped fresh runtimes: idle %d", idle)
	}
	now = now.Add(2 * time.Minute)
	pl.reap()
	if _, idle := pl.stats(); idle != 1 {
		t.Fatalf("after the idle timeout: idle %d, want MinWarm 1", idle)
	}
}
