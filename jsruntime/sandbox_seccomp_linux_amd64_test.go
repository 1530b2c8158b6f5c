package jsruntime

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestAssembleBPF: jumps resolve to the offsets of their labels, and a label that is missing,
// behind its jump or out of a jump's reach is refused rather than mis-encoded.
func TestAssembleBPF(t *testing.T) {
	ret := bpfInsn{f: unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K}}
	jeq := func(jt, jf string) bpfInsn {
		return bpfInsn{f: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K}, jt: jt, jf: jf}
	}
	out, err := assembleBPF([]bpfInsn{jeq("b", "a"), ret, {label: "a"}, ret, {label: "b"}, ret})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 || out[0].Jt != 2 || out[0].Jf != 1 {
		t.Fatalf("assembled %+v, want 4 instructions and the first jumping 2 (true) and 1 (false)", out)
	}
	far := []bpfInsn{jeq("end", "")}
	for range 256 {
		far = append(far, ret)
	}
	far = append(far, bpfInsn{label: "end"}, ret)
	for name, prog := range map[string][]bpfInsn{
		"missing":  {jeq("nowhere", ""), ret},
		"twice":    {jeq("a", ""), {label: "a"}, ret, {label: "a"}, ret},
		"backward": {{label: "top"}, ret, jeq("top", ""), ret},
		"too far":  far,
	} {
		if _, err := assembleBPF(prog); err == nil {
			t.Errorf("%s: assembled", name)
		}
	}
}
