package edge

import (
	"fmt"
	"net"
)

// TLSConfig is the `tls:` block: HTTPS for viewers, on its own address beside Listen.
type TLSConfig struct {
	// Listen is the HTTPS address (serve --tls-listen). Required with certificates; no
	// default, so that HTTPS is served only when asked for.
	Listen string `yaml:"listen"`
	// Certificates are PEM certificate chains with their keys. The one whose names (its
	// subject alternative names, "*.example.com" wildcards included) match the name a viewer
	// asks for by SNI is served; the first one otherwise. serve --tls-cert/--tls-key adds one
	// before these. Files are read at start and again on every SIGHUP: a file that no longer
	// loads keeps the running certificates, and the reload says why.
	Certificates []CertificateConfig `yaml:"certificates"`
	// MinVersion is the oldest protocol accepted: "1.2" (default) or "1.3".
	MinVersion string `yaml:"min_version"`
}

// CertificateConfig is one certificate chain and its private key, PEM files relative to the
// configuration file.
type CertificateConfig struct {
	// Cert is the certificate chain: the leaf first, then its intermediates. Required.
	Cert string `yaml:"cert"`
	// Key is the leaf's private key. Required.
	Key string `yaml:"key"`
}

// Viewer protocol policies (BehaviorConfig.ViewerProtocolPolicy).
const (
	policyAllowAll        = "allow-all"
	policyRedirectToHTTPS = "redirect-to-https"
	policyHTTPSOnly       = "https-only"
)

// validateTLS checks the tls block and the behaviors' protocol policies against it.
func (c *Config) validateTLS() error {
	t := &c.TLS
	if t.Listen != "" {
		if _, _, err := net.SplitHostPort(t.Listen); err != nil {
			return c.lineErr(keyLine(c.node, "tls", "listen"), "tls.listen", "address %q: want HOST:PORT", t.Listen)
		}
		if len(t.Certificates) == 0 {
			return c.lineErr(keyLine(c.node, "tls", "listen"), "tls.certificates", "at least one certificate is required to serve HTTPS (or serve --tls-cert and --tls-key)")
		}
	} else if len(t.Certificates) > 0 {
		return c.lineErr(keyLine(c.node, "tls", "certificates"), "tls.listen", "required with certificates (or serve --tls-listen)")
	}
	for i, cert := range t.Certificates {
		if cert.Cert == "" || cert.Key == "" {
			return c.lineErr(keyLine(c.node, "tls", "certificates"), fmt.Sprintf("tls.certificates[%d]", i), "both cert and key are required")
		}
	}
	switch t.MinVersion {
	case "", "1.2", "1.3":
	default:
		return c.lineErr(keyLine(c.node, "tls", "min_version"), "tls.min_version", "%q: want 1.2 or 1.3", t.MinVersion)
	}
	for i := range c.Behaviors {
		b := &c.Behaviors[i]
		field := fmt.Sprintf("behaviors[%d].viewer_protocol_policy", i)
		switch b.ViewerProtocolPolicy {
		case "":
			b.ViewerProtocolPolicy = policyAllowAll
		case policyAllowAll:
		case policyRedirectToHTTPS, policyHTTPSOnly:
			if t.Listen == "" {
				return c.fieldErr(b.node, "viewer_protocol_policy", field, "%s needs HTTPS: configure tls.listen and a certificate", b.ViewerProtocolPolicy)
			}
		default:
			return c.fieldErr(b.node, "viewer_protocol_policy", field, "%q: want allow-all, redirect-to-https or https-only", b.ViewerProtocolPolicy)
		}
	}
	return nil
}

// TLSFlags is serve's --tls-listen, --tls-cert and --tls-key (each "" when not given) as an
// adjustment for LoadConfig, ParseConfig and QuickStart, which apply it before they validate:
// the address replaces tls.listen, and the certificate is served before the configuration's,
// so that a viewer_protocol_policy the file asks for is satisfied by the flags. cert and key
// go together (the caller checks).
func TLSFlags(listen, cert, key string) func(*Config) {
	return func(c *Config) {
		if listen != "" {
			c.TLS.Listen = listen
		}
		if cert != "" {
			c.TLS.Certificates = append([]CertificateConfig{{Cert: cert, Key: key}}, c.TLS.Certificates...)
		}
	}
}
