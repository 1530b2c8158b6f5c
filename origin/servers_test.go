package origin

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// rawRequest is a request as a rawServer read it off the wire.
type rawRequest struct {
	Line    string      // "GET /x HTTP/1.1"
	Headers [][2]string // name (as sent) and value, in order
	Body    []byte
}

// values returns the values of the fields named name, in any case.
func (r rawRequest) values(name string) []string {
	var vs []string
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			vs = append(vs, h[1])
		}
	}
	return vs
}

// rawServer is an HTTP/1.1 server on 127.0.0.1:0 written against net.Conn,
// so tests can see requests byte for byte and misbehave at will.
type rawServer struct {
	ln       net.Listener
	handle   func(c net.Conn, r rawRequest) (keepAlive bool)
	accepted atomic.Int32

	mu    sync.Mutex
	reqs  []rawRequest
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newRawServer(t testing.TB, handle func(c net.Conn, r rawRequest) bool) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, handle: handle, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) requests() []rawRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rawRequest(nil), s.reqs...)
}

func (s *rawServer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *rawServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	br := bufio.NewReader(c)
	for {
		r, err := readRawRequest(br)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.mu.Unlock()
		if !s.handle(c, r) {
			return
		}
	}
}

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func readRawRequest(br *bufio.Reader) (rawRequest, error) {
	var r rawRequest
	line, err := br.ReadString('\n')
	if err != nil {
		return r, err
	}
	r.Line = strings.TrimRight(line, "\r\n")
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return r, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		r.Headers = append(r.Headers, [2]string{name, value})
		if strings.EqualFold(name, "Content-Length") {
			n, _ = strconv.Atoi(value)
		}
	}
	r.Body = make([]byte, n)
	_, err = io.ReadFull(br, r.Body)
	return r, err
}

// writeResponse writes a response with the given "Name: value" fields,
// adding Content-Length unless the fields frame the body themselves.
func writeResponse(w io.Writer, status int, fields []string, body string) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, fasthttp.StatusMessage(status))
	framed := false
	for _, f := range fields {
		lf := strings.ToLower(f)
		framed = framed || strings.HasPrefix(lf, "content-length:") || strings.HasPrefix(lf, "transfer-encoding:")
		b.WriteString(f + "\r\n")
	}
	if !framed {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	io.WriteString(w, b.String())
}

// answer returns a keep-alive handler that always sends the same response.
func answer(status int, body string, fields ...string) func(net.Conn, rawRequest) bool {
	return func(c net.Conn, _ rawRequest) bool {
		writeResponse(c, status, fields, body)
		return true
	}
}

// hang is a handler that reads the request and never answers.
func hang(c net.Conn, _ rawRequest) bool {
	io.Copy(io.Discard, c) // until the client or the test closes c
	return false
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// newFastServer serves h with fasthttp on 127.0.0.1:0 (with TLS when cert
// is non-nil) and returns the origin URL and the accept counter.
func newFastServer(t testing.TB, cert *tls.Certificate, h fasthttp.RequestHandler) (string, *countingListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	var served net.Listener = cl
	scheme := "http"
	if cert != nil {
		served, scheme = tls.NewListener(cl, &tls.Config{Certificates: []tls.Certificate{*cert}}), "https"
	}
	srv := &fasthttp.Server{Handler: h, DisableHeaderNamesNormalizing: true, Logger: quiet{}}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(served) }()
	t.Cleanup(func() {
		srv.Shutdown()
		<-done
	})
	return scheme + "://" + ln.Addr().String(), cl
}

// selfSigned returns a certificate for 127.0.0.1.
func selfSigned(t testing.TB) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "verge-test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// newOrigin is New that fails the test on error and closes the Origin at
// the end of the test (before the servers started earlier shut down).
func newOrigin(t testing.TB, cfg Config) *Origin {
	t.Helper()
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o
}

// newRequest builds a viewer request; fields are "Name: value".
func newRequest(method, uri string, fields ...string) *fasthttp.Request {
	req := &fasthttp.Request{}
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.Header.SetHost("viewer.example")
	for _, f := range fields {
		k, v, _ := strings.Cut(f, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	return req
}

// quiet is a fasthttp.Logger that drops everything (a test server logs
// expected failures such as a refused certificate).
type quiet struct{}

func (quiet) Printf(string, ...any) {}
