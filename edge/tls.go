package edge

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// certificates is the set of certificates a TLS listener serves, chosen by SNI. The set is
// immutable; a reload swaps in a new one.
type certificates struct {
	byName map[string]*tls.Certificate // exact names and "*.example.com" wildcards, lower case
	first  *tls.Certificate            // for a viewer that sends no name, or an unknown one
}

// loadCertificates reads every certificate of cfg. Any file that does not load fails the
// whole set, naming the file, so that a reload keeps the running set rather than serving
// part of it.
func loadCertificates(cfg []CertificateConfig) (*certificates, error) {
	set := &certificates{byName: map[string]*tls.Certificate{}}
	for i, cc := range cfg {
		cert, err := tls.LoadX509KeyPair(cc.Cert, cc.Key)
		if err != nil {
			return nil, fmt.Errorf("edge: tls.certificates[%d] (%s, %s): %w", i, cc.Cert, cc.Key, err)
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("edge: tls.certificates[%d] (%s): %w", i, cc.Cert, err)
		}
		cert.Leaf = leaf
		names := leaf.DNSNames
		if len(names) == 0 && leaf.Subject.CommonName != "" {
			names = []string{leaf.Subject.CommonName}
		}
		for _, n := range names {
			n = strings.ToLower(n)
			if _, taken := set.byName[n]; !taken { // the first listed wins a name
				set.byName[n] = &cert
			}
		}
		if set.first == nil {
			set.first = &cert
		}
	}
	if set.first == nil {
		return nil, errors.New("edge: tls: no certificates")
	}
	return set, nil
}

// pick returns the certificate for an SNI name: an exact match, then a wildcard one label
// deep ("*.example.com" for "www.example.com", as RFC 6125 allows), then the first.
func (c *certificates) pick(name string) *tls.Certificate {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if cert, ok := c.byName[name]; ok {
		return cert
	}
	if _, parent, ok := strings.Cut(name, "."); ok {
		if cert, ok := c.byName["*."+parent]; ok {
			return cert
		}
	}
	return c.first
}

// viewerTLS is the TLS side of the viewer server: its configuration, whose GetCertificate
// reads the current certificate set, so that a reload changes certificates without a restart.
type viewerTLS struct {
	certs atomic.Pointer[certificates]
	conf  *tls.Config
}

func newViewerTLS(cfg TLSConfig) (*viewerTLS, error) {
	set, err := loadCertificates(cfg.Certificates)
	if err != nil {
		return nil, err
	}
	v := &viewerTLS{}
	v.certs.Store(set)
	v.conf = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return v.certs.Load().pick(hello.ServerName), nil
		},
		// Only AEAD suites with forward secrecy for TLS 1.2 (TLS 1.3's are fixed by Go).
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		// HTTP/1.1 only: fasthttp does not speak HTTP/2 (docs/operations.md says why).
		NextProtos: []string{"http/1.1"},
		// Session tickets are on (crypto/tls's default), with keys rotated by crypto/tls:
		// returning viewers resume without a full handshake.
	}
	if cfg.MinVersion == "1.3" {
		v.conf.MinVersion = tls.VersionTLS13
	}
	return v, nil
}

// reload reads the certificates again; on error the running set stays.
func (v *viewerTLS) reload(cfg TLSConfig) error {
	set, err := loadCertificates(cfg.Certificates)
	if err != nil {
		return err
	}
	v.certs.Store(set)
	return nil
}

// loadRoots reads a PEM file of certificate authorities for an origin's ca_file; "" is nil,
// the system's roots.
func loadRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}
