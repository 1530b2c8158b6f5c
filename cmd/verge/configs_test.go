package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeFunctionsConfig runs configs/functions.yaml, whose JavaScript functions are files
// named relative to the configuration, with its origin pointed at a test server: the
// redirect, the CloudFront Function's rewrite and the security headers all apply.
func TestServeFunctionsConfig(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "configs", "functions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	listen, admin := freeAddr(t), freeAddr(t)
	conf := strings.NewReplacer(
		"http://127.0.0.1:9000", pathOrigin(t),
		"127.0.0.1:8080", listen, "127.0.0.1:8081", admin,
		"../examples/", filepath.Join(root, "examples")+"/",
	).Replace(string(src))
	file := filepath.Join(t.TempDir(), "functions.yaml")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startVerge(t, "serve", "--config", file, "--data", t.TempDir())
	base := "http://" + listen

	if r, _ := get(t, base+"/old/pricing?lang=en"); r.StatusCode != 301 || r.Header.Get("Location") != "/pricing?lang=en" {
		t.Errorf("/old/pricing: %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, body := get(t, base+"/docs/")
	if r.StatusCode != 200 || !strings.Contains(body, "/docs/index.html") {
		t.Errorf("/docs/: %d %q: the CloudFront Function did not rewrite the URI", r.StatusCode, body)
	}
	if r, _ := get(t, base+"/"); r.Header.Get("Strict-Transport-Security") == "" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("security headers missing: %v", r.Header)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, p.stderr)
	}
}

// pathOrigin answers every request with the path it was asked for.
func pathOrigin(t *testing.T) string {
	return httpOriginFunc(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "origin: "+r.URL.Path) })
}

// TestServeTLSFlags: --tls-listen, --tls-cert and --tls-key serve HTTPS beside HTTP, and
// `verge version` answers.
func TestServeTLSFlags(t *testing.T) {
	listen, tlsListen, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	cert, _ := filepath.Abs("testdata/localhost.crt")
	key, _ := filepath.Abs("testdata/localhost.key")
	p := startVerge(t, "serve", "--origin", pathOrigin(t), "--listen", listen, "--admin", admin, "--data", t.TempDir(),
		"--tls-listen", tlsListen, "--tls-cert", cert, "--tls-key", key)
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + tlsListen + "/over-tls")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "origin: /over-tls" {
		t.Errorf("over HTTPS: %q", body)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, p.stderr)
	}
	out, err := exec.Command(verge, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "verge ") {
		t.Errorf("verge version: %q, %v", out, err)
	}
}

// TestServeTLSFlagsSatisfyThePolicy: the TLS flags stand for the configuration's tls block
// before it is checked, so a behavior that redirects to HTTPS runs with them and no tls block;
// without them, or with a certificate and no key, serve refuses to start and says why.
func TestServeTLSFlagsSatisfyThePolicy(t *testing.T) {
	dir := t.TempDir()
	listen, tlsListen, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	cert, _ := filepath.Abs("testdata/localhost.crt")
	key, _ := filepath.Abs("testdata/localhost.key")
	file := filepath.Join(dir, "edge.yaml")
	yaml := "listen: " + listen + "\nadmin: " + admin + "\norigins: [{id: o, url: " + pathOrigin(t) + "}]\n" +
		"behaviors: [{path: \"*\", viewer_protocol_policy: redirect-to-https}]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "edge.yaml:4: behaviors[0].viewer_protocol_policy: redirect-to-https needs HTTPS"},
		{[]string{"--tls-listen", tlsListen, "--tls-cert", cert}, "--tls-cert and --tls-key go together"},
	} {
		out, err := exec.Command(verge, append([]string{"serve", "--config", file, "--data", t.TempDir()}, tt.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Fatalf("serve %v: %v, want a refusal saying %q:\n%s", tt.args, err, tt.want, out)
		}
	}
	p := startVerge(t, "serve", "--config", file, "--data", t.TempDir(), "--tls-listen", tlsListen, "--tls-cert", cert, "--tls-key", key)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + listen + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := strings.Cut(tlsListen, ":")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://"+strings.Split(listen, ":")[0]+":"+port+"/x" {
		t.Fatalf("plain HTTP: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, p.stderr)
	}
}
