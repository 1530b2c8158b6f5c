package jsruntime_test

import (
	"io"
	"os"
	"os/exec"
	"testing"
)

// pipeEchoEnv makes the test binary an echo process for BenchmarkPipeRoundTrip.
const pipeEchoEnv = "VERGE_JSRUNTIME_PIPE_ECHO"

const pipeFrame = 400 // about one call frame

// pipeEcho copies pipeFrame-byte frames from stdin back to stdout until stdin closes.
func pipeEcho() {
	b := make([]byte, pipeFrame)
	for {
		if _, err := io.ReadFull(os.Stdin, b); err != nil {
			return
		}
		if _, err := os.Stdout.Write(b); err != nil {
			return
		}
	}
}

// BenchmarkPipeRoundTrip: a 400-byte frame to a child process and back over two pipes, each
// end parking until its frame arrives (the netpoller here, a blocking read in the child): the
// two cross-process wake-ups per call that the worker channel's polling (ringReader) avoids
// when the peer answers quickly. No JS, no codec.
func BenchmarkPipeRoundTrip(b *testing.B) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), pipeEchoEnv+"=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = in.Close(); _ = cmd.Wait() }()
	buf, got := make([]byte, pipeFrame), make([]byte, pipeFrame)
	for b.Loop() {
		if _, err := in.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(out, got); err != nil {
			b.Fatal(err)
		}
	}
}
