package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/cluster"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/registry"
)

// startFleetNode wires a lifecycle and a fleet as serve does, serving the admin handler on
// a loopback listener.
func startFleetNode(t *testing.T, fc fleetConfig) (*lifecycle, *fleet, string) {
	t.Helper()
	fc.AdminToken = "fleet-token"
	lc, fl, url, _ := startGuardedNode(t, fc, []admin.Token{})
	return lc, fl, url
}

// startGuardedNode is startFleetNode with admin tokens; seen returns the Authorization
// headers of the requests its admin port received so far.
func startGuardedNode(t *testing.T, fc fleetConfig, tokens []admin.Token) (lc *lifecycle, fl *fleet, url string, seen func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &edge.Config{Admin: ln.Addr().String(), Data: t.TempDir()}
	log := slog.New(slog.DiscardHandler)
	lc, err = openLifecycle(cfg, nil, log, lifecycleOptions{InProcess: true, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	fl, err = wireCluster(cfg, fc, lc, nil, log)
	if err != nil {
		lc.Close()
		t.Fatal(err)
	}
	guard, err := adminGuard(cfg, lc, fl)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var auths []string
	h := guard(fl.Handler)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		h.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); fl.Close(); lc.Close() })
	return lc, fl, "http://" + ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), auths...)
	}
}

// waitRunnable waits until qualifier of fn is runnable on lc (record and blob are there).
func waitRunnable(t *testing.T, lc *lifecycle, fn, qualifier string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := lc.reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if r, err := st.Resolve(fn, qualifier); err == nil && lc.reg.Runnable(r.Primary) == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:%s never became runnable", fn, qualifier)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBlobFetchSendsTheFleetCredential: three nodes with admin tokens and a gossip key. B and C
// fetch the code A published from A, its publisher, and from no one else, with the credential
// derived from the key, never with an admin token; the guard lets that credential reach the
// blob route only.
func TestBlobFetchSendsTheFleetCredential(t *testing.T) {
	key := "dmVyZ2UtdGVzdC1rZXkxMg=="
	tokens := []admin.Token{{Name: "ops", Secret: "admin-s3cret"}}
	lcA, flA, adminA, seenA := startGuardedNode(t, fleetConfig{Gossip: "127.0.0.1:0", SecretKey: key}, tokens)
	lcB, flB, _, seenB := startGuardedNode(t, fleetConfig{Gossip: "127.0.0.1:0", SecretKey: key, Seeds: []string{flA.c.Addr()}}, tokens)
	lcC, _, _, seenC := startGuardedNode(t, fleetConfig{Gossip: "127.0.0.1:0", SecretKey: key, Seeds: []string{flB.c.Addr()}}, tokens)
	waitAlive(t, flA, 3)
	if _, err := lcA.reg.PutCode("t", "hello", registry.Upload{Package: []byte(`exports.handler = async (e) => e.Records[0].cf.request;`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lcA.reg.Publish("t", "hello", ""); err != nil {
		t.Fatal(err)
	}
	waitRunnable(t, lcB, "hello", "1")
	waitRunnable(t, lcC, "hello", "1")
	if b, c := len(seenB()), len(seenC()); b+c != 0 {
		t.Errorf("peers that did not publish the code were asked for it: B %d times, C %d", b, c)
	}
	want, err := cluster.FleetToken(key)
	if err != nil {
		t.Fatal(err)
	}
	auths := seenA()
	if len(auths) == 0 {
		t.Fatal("B never asked A for the blob")
	}
	for _, a := range auths {
		if strings.Contains(a, "admin-s3cret") || a != "Bearer "+want {
			t.Fatalf("B sent Authorization %q to A, want the fleet credential", a)
		}
	}
	for _, path := range []string{"/v1/functions", "/v1/cluster/members"} {
		req, _ := http.NewRequest(http.MethodGet, adminA+path, nil)
		req.Header.Set("Authorization", "Bearer "+want)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the fleet credential on %s: %d, want 401", path, resp.StatusCode)
		}
	}
}

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// waitAlive waits until fl sees n alive members, itself included.
func waitAlive(t *testing.T, fl *fleet, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		alive := 0
		for _, m := range fl.c.Members() {
			if m.State == cluster.StateAlive {
				alive++
			}
		}
		if alive == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d members alive, want %d", alive, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFleetCredentialChecks: a fleet credential that is an admin token, or none at all while
// admin tokens are configured, is refused at start with what to set.
func TestFleetCredentialChecks(t *testing.T) {
	cfg, lc := soloLifecycle(t)
	lc.Tokens = []admin.Token{{Name: "ops", Secret: "admin-s3cret"}}
	fl, err := wireCluster(cfg, fleetConfig{Gossip: "127.0.0.1:0"}, lc, nil, slog.New(slog.DiscardHandler))
	if err == nil {
		fl.Close()
		t.Fatal("a fleet with admin tokens and no fleet credential was accepted")
	}
	if !strings.Contains(err.Error(), "cluster.secret_key") {
		t.Fatalf("error %q does not say what to set", err)
	}
	fl, err = wireCluster(cfg, fleetConfig{Gossip: "127.0.0.1:0", AdminToken: "admin-s3cret"}, lc, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if _, err := adminGuard(cfg, lc, fl); err == nil || !strings.Contains(err.Error(), "admin token") {
		t.Fatalf("a fleet credential equal to an admin token: %v", err)
	}
}

// TestGossipNeedsAKey: gossip bound or advertised on a non-loopback address needs a gossip
// key, or an explicit --insecure-gossip; the error names the settings. (The addresses are not
// this machine's, so nothing public is bound whatever happens.)
func TestGossipNeedsAKey(t *testing.T) {
	cfg, lc := soloLifecycle(t)
	for _, tc := range []struct {
		name     string
		fc       fleetConfig
		env      string
		ok, warn bool
	}{
		{"bound on another address", fleetConfig{Gossip: "192.0.2.1:0"}, "", false, false},
		{"a name", fleetConfig{Gossip: "edge-1.example:0"}, "", false, false},
		{"advertised elsewhere", fleetConfig{Gossip: "127.0.0.1:0", Advertise: "192.0.2.1:7946"}, "", false, false},
		{"a key", fleetConfig{Gossip: "192.0.2.1:0", SecretKey: "dmVyZ2UtdGVzdC1rZXkxMg=="}, "", true, false},
		{"a key from the environment", fleetConfig{Gossip: "192.0.2.1:0"}, "dmVyZ2UtdGVzdC1rZXkxMg==", true, false},
		{"insecure, explicitly", fleetConfig{Gossip: "192.0.2.1:0", InsecureGossip: true}, "", true, false},
		{"insecure, advertised elsewhere: warned", fleetConfig{Gossip: "127.0.0.1:0", Advertise: "192.0.2.1:7946", InsecureGossip: true}, "", true, true},
		{"loopback", fleetConfig{Gossip: "127.0.0.1:0"}, "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VERGE_GOSSIP_KEY", tc.env)
			var logs strings.Builder
			var mu sync.Mutex
			log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				return logs.Write(b)
			}), nil))
			fl, err := wireCluster(cfg, tc.fc, lc, nil, log)
			if err == nil {
				fl.Close()
			}
			refused := err != nil && strings.Contains(err.Error(), "cluster.secret_key") && strings.Contains(err.Error(), "--insecure-gossip")
			if refused == tc.ok {
				t.Fatalf("refused %v (%v), want refused %v", refused, err, !tc.ok)
			}
			mu.Lock()
			warned := strings.Contains(logs.String(), "INSECURE GOSSIP")
			mu.Unlock()
			if warned != tc.warn {
				t.Fatalf("warned %v, want %v:\n%s", warned, tc.warn, logs.String())
			}
		})
	}
}

func TestWireClusterReplicates(t *testing.T) {
	lcA, flA, _ := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0"})
	lcB, _, adminB := startFleetNode(t, fleetConfig{Gossip: "127.0.0.1:0", Seeds: []string{flA.c.Addr()}})
	if _, err := lcA.reg.PutCode("t", "hello", registry.Upload{Package: []byte(`exports.handler = async (e) => e.Records[0].cf.request;`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lcA.reg.Publish("t", "hello", ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := lcB.reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if r, err := st.Resolve("hello", "1"); err == nil && lcB.reg.Runnable(r.Primary) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("hello:1 never became runnable on B")
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodGet, adminB+"/v1/cluster/members", nil)
	req.Header.Set("Authorization", "Bearer fleet-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Members []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Members) != 2 {
		t.Fatalf("members: %v %d", err, len(body.Members))
	}
}

// soloLifecycle opens a lifecycle on a temporary data directory, closed when the test ends,
// for the fleet tests that never get as far as gossip.
func soloLifecycle(t *testing.T) (*edge.Config, *lifecycle) {
	t.Helper()
	cfg := &edge.Config{Admin: "127.0.0.1:0", Data: t.TempDir()}
	lc, err := openLifecycle(cfg, nil, slog.New(slog.DiscardHandler), lifecycleOptions{InProcess: true, Tokens: []admin.Token{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lc.Close() })
	return cfg, lc
}

func TestWireClusterOff(t *testing.T) {
	cfg, lc := soloLifecycle(t)
	fl, err := wireCluster(cfg, fleetConfig{}, lc, nil, slog.New(slog.DiscardHandler))
	if err != nil || fl.c != nil || fl.Handler == nil || fl.Close() != nil {
		t.Fatalf("no fleet: %v", err)
	}
}

// TestJoinRemoteWithoutGossip: the default gossip address is loopback, so joining a seed on
// another host without --gossip is refused with what to do, before anything binds.
func TestJoinRemoteWithoutGossip(t *testing.T) {
	cfg, lc := soloLifecycle(t)
	for _, seed := range []string{"10.0.0.5:7946", "edge-2.example:7946", "[2001:db8::1]:7946"} {
		fl, err := wireCluster(cfg, fleetConfig{Seeds: []string{"127.0.0.1:1", seed}}, lc, nil, slog.New(slog.DiscardHandler))
		if err == nil {
			fl.Close()
			t.Fatalf("--join %s without --gossip accepted", seed)
		}
		if !strings.Contains(err.Error(), seed) || !strings.Contains(err.Error(), "--gossip") {
			t.Fatalf("--join %s: error %q does not say which seed and what to give", seed, err)
		}
	}
}

// TestJoinDefaultGossip: --join without --gossip gossips on the documented default, 127.0.0.1:7946.
// The test holds that port (or finds it taken), so the fleet must fail to bind it, and say so.
func TestJoinDefaultGossip(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:7946"); err == nil {
		defer ln.Close()
	}
	cfg, lc := soloLifecycle(t)
	fl, err := wireCluster(cfg, fleetConfig{Seeds: []string{"127.0.0.1:1"}}, lc, nil, slog.New(slog.DiscardHandler))
	if err == nil {
		fl.Close()
		t.Fatal("joined on a port that is taken")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:7946") {
		t.Fatalf("error %q does not name the default gossip address", err)
	}
}

func TestLoadTrust(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		fc      fleetConfig
		wantErr string
		signs   bool
		mode    string // signingMode's first word
	}{
		{"none", fleetConfig{}, "", false, "off"},
		{"public key only", fleetConfig{FleetPublicKey: b64(pub)}, "", false, "verify"},
		{"seed file", fleetConfig{FleetPublicKey: b64(pub), FleetPrivateKeyFile: write("seed", b64(priv.Seed())+"\n")}, "", true, "on:"},
		// The private key alone gives the public key: the node verifies as well as signs.
		{"private key file", fleetConfig{FleetPrivateKeyFile: write("key", b64(priv))}, "", true, "on:"},
		{"bad public key", fleetConfig{FleetPublicKey: "abc"}, "fleet_public_key", false, ""},
		{"missing file", fleetConfig{FleetPrivateKeyFile: filepath.Join(dir, "nope")}, "fleet_private_key_file", false, ""},
		{"short key file", fleetConfig{FleetPrivateKeyFile: write("short", b64([]byte("xx")))}, "want 32 or 64", false, ""},
		{"keys of two pairs", fleetConfig{FleetPublicKey: b64(otherPub), FleetPrivateKeyFile: write("key2", b64(priv))}, "not the private key of fleet_public_key", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := loadTrust(tc.fc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || (tr.SigningKey != nil) != tc.signs {
				t.Fatalf("trust %+v, err %v", tr, err)
			}
			if tc.fc.FleetPublicKey != "" || tc.fc.FleetPrivateKeyFile != "" {
				if !tr.FleetKey.Equal(pub) {
					t.Fatalf("fleet key %x, want %x", tr.FleetKey, pub)
				}
			}
			if mode := signingMode(tr); !strings.HasPrefix(mode, tc.mode) {
				t.Fatalf("logged code_signing %q, want %q...", mode, tc.mode)
			}
		})
	}
}

// TestVerifyOnlyNodeRefusesPublish: in a signing fleet, a node with the fleet's public key but
// not its private key refuses `fn publish` with a 403 that says where to publish from (its
// peers would drop the unsigned version and the registries would never agree again); what the
// signing node publishes runs there, and the two registries agree.
func TestVerifyOnlyNodeRefusesPublish(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	keyFile := filepath.Join(t.TempDir(), "fleet.key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(priv.Seed())), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := fleetConfig{Gossip: "127.0.0.1:0", FleetPublicKey: base64.StdEncoding.EncodeToString(pub)}
	signer := fc
	signer.FleetPrivateKeyFile = keyFile
	lcA, flA, _ := startFleetNode(t, signer)
	fc.Seeds = []string{flA.c.Addr()}
	lcB, flB, adminB := startFleetNode(t, fc)
	waitAlive(t, flA, 2)
	for _, lc := range []*lifecycle{lcA, lcB} {
		if _, err := lc.reg.PutCode("t", "f", registry.Upload{Package: []byte(`exports.handler = async (e) => e.Records[0].cf.request;`)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := fn("publish", "f", "--admin", adminB)
	if err == nil || !strings.Contains(err.Error(), "(403)") || !strings.Contains(err.Error(), "publish from a node that holds the fleet private key") {
		t.Fatalf("publish on a node that cannot sign: %q, %v", out, err)
	}
	if _, _, err := lcA.reg.Publish("t", "f", ""); err != nil {
		t.Fatal(err)
	}
	waitRunnable(t, lcB, "f", "1")
	if out, err := fn("alias", "f", "live", "1", "--admin", adminB); err != nil {
		t.Fatalf("alias to a signed version on the node that cannot sign: %q, %v", out, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for flA.c.Digest() != flB.c.Digest() {
		if time.Now().After(deadline) {
			t.Fatal("the two registries never agreed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFleetFlagsOverrideConfig(t *testing.T) {
	var f fleetFlags
	cmd := &cobra.Command{Use: "serve", RunE: func(*cobra.Command, []string) error { return nil }}
	f.register(cmd.Flags())
	cmd.SetArgs([]string{"--gossip", "127.0.0.1:7947", "--join", "127.0.0.1:7946,127.0.0.1:7948"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	fc := f.apply(cmd, fleetConfig{Gossip: "0.0.0.0:1", Seeds: []string{"x:1"}, Name: "n"})
	if fc.Gossip != "127.0.0.1:7947" || strings.Join(fc.Seeds, ",") != "127.0.0.1:7946,127.0.0.1:7948" || fc.Name != "n" {
		t.Fatalf("%+v", fc)
	}
}

// TestJoinDeadSeedSaysSo: a node whose only seed is down logs that no seed was reachable and
// never that it joined (issue 16: it logged `fleet: joined` right after).
func TestJoinDeadSeedSaysSo(t *testing.T) {
	p := startVerge(t, "serve", "--origin", httpOrigin(t, "page"), "--listen", freeAddr(t), "--admin", freeAddr(t),
		"--data", t.TempDir(), "--gossip", freeAddr(t), "--join", freeAddr(t))
	waitLog(t, p, "rejoin: no seed or peer reachable")
	p.stop(t, syscall.SIGTERM)
	if log := p.stderr.String(); strings.Contains(log, "joined") {
		t.Fatalf("a node that reached no seed says it joined:\n%s", log)
	}
}

// TestSIGTERMLeaves: a node stopped with SIGTERM is listed as left by the others, not dead.
func TestSIGTERMLeaves(t *testing.T) {
	origin := httpOrigin(t, "page")
	adminA, gossipA := freeAddr(t), freeAddr(t)
	a := startVerge(t, "serve", "--origin", origin, "--listen", freeAddr(t), "--admin", adminA, "--data", t.TempDir(), "--gossip", gossipA)
	b := startVerge(t, "serve", "--origin", origin, "--listen", freeAddr(t), "--admin", freeAddr(t), "--data", t.TempDir(),
		"--gossip", freeAddr(t), "--join", gossipA)
	members := func() string {
		out, err := exec.Command(verge, "cluster", "members", "--admin", "http://"+adminA).CombinedOutput()
		if err != nil {
			t.Fatalf("cluster members: %v\n%s", err, out)
		}
		return string(out)
	}
	waitFor := func(what string, cond func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			out := members()
			if cond(out) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s:\n%s", what, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("B never alive on A", func(out string) bool { return strings.Count(out, " alive ") == 2 })
	if err := b.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	waitFor("B not listed as left", func(out string) bool { return strings.Contains(out, " left ") && !strings.Contains(out, " dead ") })
	a.stop(t, syscall.SIGTERM)
}

// TestClusterKeygen: `verge cluster keygen FILE` writes a private key that
// fleet_private_key_file reads, for its owner only, and prints the fleet_public_key line that
// goes with it; it never overwrites a file.
func TestClusterKeygen(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "fleet.key")
	run := func() (string, error) {
		cmd := newClusterCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		cmd.SetArgs([]string{"keygen", keyFile})
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run()
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := strings.CutPrefix(strings.TrimSpace(out), "fleet_public_key: ")
	if !ok {
		t.Fatalf("printed %q, want a fleet_public_key line", out)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v: want mode 0600", fi, err)
	}
	tr, err := loadTrust(fleetConfig{FleetPublicKey: pub, FleetPrivateKeyFile: keyFile})
	if err != nil || tr.SigningKey == nil || !strings.HasPrefix(signingMode(tr), "on:") {
		t.Fatalf("the pair does not load as a signing configuration: %+v, %v", tr, err)
	}
	written, _ := os.ReadFile(keyFile)
	if _, err := run(); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second keygen over the same file: %v", err)
	}
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(again, written) {
		t.Fatal("the key file was overwritten")
	}
}

// TestOpenSSLFleetKeys: the openssl commands docs/operations.md gives, for machines without
// verge, make a key pair that loads as a signing configuration.
func TestOpenSSLFleetKeys(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	script := `set -e
openssl genpkey -algorithm ed25519 -out fleet.pem
openssl pkey -in fleet.pem -outform DER | tail -c 32 | base64 > fleet.key
openssl pkey -in fleet.pem -pubout -outform DER | tail -c 32 | base64`
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	tr, err := loadTrust(fleetConfig{FleetPublicKey: string(out), FleetPrivateKeyFile: filepath.Join(dir, "fleet.key")})
	if err != nil || tr.SigningKey == nil {
		t.Fatalf("the openssl pair does not load: %+v, %v", tr, err)
	}
}
