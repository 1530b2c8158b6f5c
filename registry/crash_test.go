package registry_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vergecdn/verge/registry"
)

const crashChildEnv = "VERGE_REGISTRY_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild uploads new $LATEST code for "hot" in a loop, printing "ack SHA" after each
// acknowledged PutCode, until it is killed.
func crashChild(dir string) {
	s, err := registry.Open(registry.Options{Dir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		pkg := fmt.Appendf(nil, "%s // %d %s", hello, i, strings.Repeat("z", rand.IntN(512<<10)))
		if i%2 == 1 {
			pkg = zipOf(nil, map[string]string{"index.js": string(pkg)})
		}
		f, err := s.PutCode("child", "hot", registry.Upload{Package: pkg})
		if err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(2)
		}
		if i%3 == 0 {
			_, _, _ = s.Publish("child", "hot", "")
		}
		fmt.Fprintln(out, "ack", f.Latest.SHA256)
		out.Flush()
	}
}

// TestKill9MidUpload kills a writer process with SIGKILL at random moments and checks that
// the registry reopens with every acknowledged change and nothing half-written.
func TestKill9MidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	s, err := registry.Open(registry.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	stable := must[registry.Function](t)(s.PutCode("t", "stable", registry.Upload{Package: []byte(hello)}))
	must[registry.Version](t)(func() (registry.Version, error) { v, _, err := s.Publish("t", "stable", ""); return v, err }())
	must[registry.Alias](t)(s.PutAlias("t", "stable", "live", registry.AliasSpec{Version: 1}))
	must[registry.Association](t)(s.Associate("t", registry.Association{Behavior: "default", Event: "viewer-request", Function: "stable", Qualifier: "live"}))
	s.Close()

	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		var acked []string
		want := 2 + round
		for len(acked) < want && sc.Scan() {
			line := sc.Text()
			if sha, ok := strings.CutPrefix(line, "ack "); ok {
				acked = append(acked, sha)
				continue
			}
			t.Fatalf("child: %s", line)
		}
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() { // acknowledgements written before the kill count too
			if sha, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				acked = append(acked, sha)
			}
		}
		_ = cmd.Wait()
		if len(acked) < want {
			t.Fatalf("round %d: child acknowledged %d changes", round, len(acked))
		}

		s, err := registry.Open(registry.Options{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		st, err := s.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.Resolve("stable", "live")
		if err != nil || r.Primary.Code.SHA256 != stable.Latest.SHA256 || len(st.Associations) != 1 {
			t.Fatalf("round %d: the old state changed: %+v %v", round, r, err)
		}
		hot := st.Functions["hot"]
		last := acked[len(acked)-1]
		if hot.Latest.SHA256 != last {
			// The only other acceptable state: a change in flight at the kill was committed.
			audit, _ := s.Audit(0, 2)
			if len(audit) == 0 || !strings.Contains(audit[len(audit)-1].Detail, hot.Latest.SHA256[:12]) && audit[len(audit)-1].Action != "publish" {
				t.Fatalf("round %d: $LATEST %s, last acknowledged %s", round, hot.Latest.SHA256, last)
			}
		}
		for _, c := range append([]registry.Code{hot.Latest}, codes(st, "hot")...) {
			src, err := s.Source(c)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if !strings.HasPrefix(src.Files["index.js"], hello) {
				t.Fatalf("round %d: bad source", round)
			}
		}
		data, _ := s.Blob(hot.Latest.SHA256)
		if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != hot.Latest.SHA256 {
			t.Fatal("blob hash mismatch")
		}
		s.Close()
	}
}

func codes(st *registry.State, name string) []registry.Code {
	var cs []registry.Code
	for _, v := range st.SortedVersions(name) {
		cs = append(cs, v.Code)
	}
	return cs
}
