package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/admin"
	"github.com/vergecdn/verge/edge"
	"github.com/vergecdn/verge/registry"
)

// startFleetNode wires a lifecycle and a fleet as serve does, serving the admin handler on
// a loopback listener.
func startFleetNode(t *testing.T, fc fleetConfig) (*lifecycle, *fleet, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &edge.Config{Admin: ln.Addr().String(), Data: t.TempDir()}
	log := slog.New(slog.DiscardHandler)
	lc, err := openLifecycle(cfg, nil, log, lifecycleOptions{InProcess: true, Tokens: []admin.Token{}})
	if err != nil {
		t.Fatal(err)
	}
	fc.AdminToken = "fleet-token"
	fl, err := wireCluster(cfg, fc, lc, nil, log)
	if err != nil {
		lc.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: fl.Handler}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); fl.Close(); lc.Close() })
	return lc, fl, "http://" + ln.Addr().String()
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
	for _, seed := range []string{"127.0.0.1:7946", "localhost:7946", "[::1]:7946", "127.0.0.2:1"} {
		if !loopback(seed) {
			t.Errorf("loopback(%q) = false", seed)
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
	}{
		{"none", fleetConfig{}, "", false},
		{"public key only", fleetConfig{FleetPublicKey: b64(pub)}, "", false},
		{"seed file", fleetConfig{FleetPublicKey: b64(pub), FleetPrivateKeyFile: write("seed", b64(priv.Seed())+"\n")}, "", true},
		{"private key file", fleetConfig{FleetPrivateKeyFile: write("key", b64(priv))}, "", true},
		{"bad public key", fleetConfig{FleetPublicKey: "abc"}, "fleet_public_key", false},
		{"missing file", fleetConfig{FleetPrivateKeyFile: filepath.Join(dir, "nope")}, "fleet_private_key_file", false},
		{"short key file", fleetConfig{FleetPrivateKeyFile: write("short", b64([]byte("xx")))}, "want 32 or 64", false},
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
		})
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
