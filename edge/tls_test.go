package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA issues certificates for TLS tests and is the only root their clients trust.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "verge test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a certificate for names, signed by the CA, and its key as PEM files in dir;
// it returns their paths.
func (ca *testCA) issue(t *testing.T, dir, file string, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, file+".crt"), filepath.Join(dir, file+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsNode starts a node serving HTTPS with the certificates of certs (cert, key pairs), its
// behaviors given by behaviors (YAML under "behaviors:").
func tlsNode(t *testing.T, origin string, certs [][2]string, behaviors string) *node {
	t.Helper()
	var y strings.Builder
	y.WriteString("tls:\n  listen: 127.0.0.1:0\n  certificates:\n")
	for _, c := range certs {
		y.WriteString("    - {cert: " + c[0] + ", key: " + c[1] + "}\n")
	}
	y.WriteString("origins: [{id: o, url: ORIGIN}]\nbehaviors:\n" + behaviors)
	return startNode(t, y.String(), origin, nil)
}

// httpsGet fetches path from n's HTTPS address asking for serverName by SNI.
func httpsGet(t *testing.T, n *node, pool *x509.CertPool, serverName, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName},
	}}
	resp, err := c.Get("https://" + n.TLSAddr() + path)
	if err != nil {
		t.Fatalf("GET https %s%s: %v", serverName, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestTLSServesBySNI(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	a, ak := ca.issue(t, dir, "a", "a.example")
	w, wk := ca.issue(t, dir, "wild", "*.b.example")
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "proto="+r.Header.Get("X-Forwarded-Proto"))
	})
	n := tlsNode(t, o.URL, [][2]string{{a, ak}, {w, wk}}, "  - path: \"*\"\n")

	tests := []struct{ sni, wantCN string }{
		{"a.example", "a.example"},
		{"www.b.example", "*.b.example"},
		{"unknown.example", "a.example"}, // the first certificate; the client refuses the name
	}
	for _, tt := range tests {
		conn, err := tls.Dial("tcp", n.TLSAddr(), &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("%s: %v", tt.sni, err)
		}
		got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
		conn.Close()
		if got != tt.wantCN {
			t.Errorf("SNI %s: served %q, want %q", tt.sni, got, tt.wantCN)
		}
	}
	resp, body := httpsGet(t, n, ca.pool, "a.example", "/x")
	if resp.StatusCode != 200 || body != "proto=https" {
		t.Errorf("over HTTPS: %d %q, want the origin told X-Forwarded-Proto: https", resp.StatusCode, body)
	}
	if r := n.do(t, "GET", "/y"); r.body != "proto=http" {
		t.Errorf("over HTTP: %q, want proto=http", r.body)
	}
}

func TestTLSRefusesOldProtocolsAndResumes(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	c, k := ca.issue(t, dir, "a", "a.example")
	n := tlsNode(t, staticOrigin(t, "ok").URL, [][2]string{{c, k}}, "  - path: \"*\"\n")

	if conn, err := tls.Dial("tcp", n.TLSAddr(), &tls.Config{ServerName: "a.example", RootCAs: ca.pool, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cache := tls.NewLRUClientSessionCache(4)
		cfg := &tls.Config{ServerName: "a.example", RootCAs: ca.pool, MinVersion: v, MaxVersion: v, ClientSessionCache: cache}
		resumed := false
		for range 2 {
			conn, err := tls.Dial("tcp", n.TLSAddr(), cfg)
			if err != nil {
				t.Fatalf("TLS %x: %v", v, err)
			}
			// TLS 1.3 tickets arrive after the handshake: one exchange reads them.
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
			io.ReadAll(conn)
			resumed = conn.ConnectionState().DidResume
			conn.Close()
		}
		if !resumed {
			t.Errorf("TLS %x: the second connection did not resume the session", v)
		}
	}
}

func TestViewerProtocolPolicy(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	c, k := ca.issue(t, dir, "a", "a.example")
	o := staticOrigin(t, "from origin")
	n := tlsNode(t, o.URL, [][2]string{{c, k}}, `  - path: /secure/*
    viewer_protocol_policy: https-only
  - path: /account/*
    viewer_protocol_policy: redirect-to-https
  - path: "*"
`)
	_, tlsPort, _ := strings.Cut(n.TLSAddr(), ":")
	tests := []struct {
		path     string
		status   int
		location string
		xcache   string
	}{
		{"/secure/x", 403, "", "Error from verge"},
		{"/account/me?tab=2", 301, "https://a.example:" + tlsPort + "/account/me?tab=2", "Redirect from verge"},
		{"/public", 200, "", "Miss from verge"},
	}
	for _, tt := range tests {
		before := o.hits.Load()
		r := n.do(t, "GET", tt.path, "Host", "a.example:8080")
		if r.StatusCode != tt.status || r.Header.Get("Location") != tt.location || r.Header.Get("X-Cache") != tt.xcache {
			t.Errorf("http %s: %d Location %q X-Cache %q, want %d %q %q", tt.path, r.StatusCode,
				r.Header.Get("Location"), r.Header.Get("X-Cache"), tt.status, tt.location, tt.xcache)
		}
		if tt.status != 200 && o.hits.Load() != before {
			t.Errorf("http %s reached the origin", tt.path)
		}
		if resp, _ := httpsGet(t, n, ca.pool, "a.example", tt.path); resp.StatusCode != 200 {
			t.Errorf("https %s: %d, want 200", tt.path, resp.StatusCode)
		}
	}
}

// A SIGHUP reads the certificate files again: a renewed certificate is served, and one that no
// longer loads keeps the running ones, with an error naming the file.
func TestTLSReload(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	c, k := ca.issue(t, dir, "a", "old.example")
	o := staticOrigin(t, "ok")
	yaml := "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\ntls:\n  listen: 127.0.0.1:0\n  certificates: [{cert: " + c + ", key: " + k +
		"}]\norigins: [{id: o, url: " + o.URL + "}]\nbehaviors: [{path: \"*\"}]\n"
	n := tlsNode(t, o.URL, [][2]string{{c, k}}, "  - path: \"*\"\n")
	served := func() string {
		conn, err := tls.Dial("tcp", n.TLSAddr(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	reload := func() error {
		cfg, err := ParseConfig("test.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return n.Reload(cfg)
	}
	ca.issue(t, dir, "a", "renewed.example") // the same files, a new certificate
	if err := reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(); got != "renewed.example" {
		t.Fatalf("after a reload: %q, want the renewed certificate", got)
	}
	if err := os.WriteFile(k, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := reload()
	if err == nil || !strings.Contains(err.Error(), k) {
		t.Fatalf("a broken key: reload error %v, want one naming %s", err, k)
	}
	if got := served(); got != "renewed.example" {
		t.Fatalf("after a failed reload: %q, want the running certificate", got)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"listen without certificates", "tls: {listen: 127.0.0.1:8443}\n", "tls.certificates: at least one certificate"},
		{"certificates without listen", "tls: {certificates: [{cert: a, key: b}]}\n", "tls.listen: required with certificates"},
		{"a certificate without its key", "tls: {listen: 127.0.0.1:8443, certificates: [{cert: a}]}\n", "tls.certificates[0]: both cert and key"},
		{"an old protocol", "tls: {listen: 127.0.0.1:8443, certificates: [{cert: a, key: b}], min_version: \"1.0\"}\n", `tls.min_version: "1.0": want 1.2 or 1.3`},
		{"a policy without HTTPS", "behaviors:\n  - path: \"*\"\n    viewer_protocol_policy: https-only\n", "bad.yaml:4: behaviors[0].viewer_protocol_policy: https-only needs HTTPS"},
		{"an unknown policy", "behaviors:\n  - path: \"*\"\n    viewer_protocol_policy: https\n", `behaviors[0].viewer_protocol_policy: "https": want allow-all`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := "origins: [{id: a, url: http://127.0.0.1:9}]\n" + tt.yaml
			if !strings.Contains(tt.yaml, "behaviors") {
				y += "behaviors: [{path: \"*\"}]\n"
			}
			_, err := ParseConfig("bad.yaml", []byte(y))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// An https origin's certificate is verified against the system's roots unless the origin names
// a ca_file: a private origin's certificate is refused (502) until its authority is given.
func TestOriginCertificateVerified(t *testing.T) {
	o := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "secret origin") }))
	t.Cleanup(o.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, ca, "CERTIFICATE", o.Certificate().Raw)
	tests := []struct {
		name, extra string
		status      int
	}{
		{"system roots", "", 502},
		{"its authority", ", ca_file: " + ca, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := startNode(t, "origins: [{id: o, url: ORIGIN"+tt.extra+"}]\nbehaviors: [{path: \"*\"}]\n", o.URL, nil)
			if r := n.do(t, "GET", "/"); r.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", r.StatusCode, r.body, tt.status)
			}
		})
	}
	cfg, err := ParseConfig("bad.yaml", []byte("origins: [{id: o, url: https://127.0.0.1:9, ca_file: /nonexistent.pem}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = buildPipeline(cfg, newTestRegistry(), nil); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("a missing ca_file: %v", err)
	}
}
