package edge

import (
	"bufio"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptedOrigin is a raw keep-alive origin: respond writes the answer to each request
// (given its header block as text) and says whether to keep the connection.
type scriptedOrigin struct {
	url  string
	mu   sync.Mutex
	reqs []string
}

func newScriptedOrigin(t *testing.T, respond func(c net.Conn, req string) bool) *scriptedOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &scriptedOrigin{url: "http://" + ln.Addr().String()}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns[c] = true
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					tp := textproto.NewReader(br)
					var sb strings.Builder
					n := 0
					for {
						l, err := tp.ReadLine()
						if err != nil {
							return
						}
						if l == "" {
							break
						}
						sb.WriteString(l + "\n")
						if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
							n, _ = strconv.Atoi(strings.TrimSpace(v))
						}
					}
					io.CopyN(io.Discard, br, int64(n))
					o.mu.Lock()
					o.reqs = append(o.reqs, sb.String())
					o.mu.Unlock()
					if !respond(c, sb.String()) {
						return
					}
				}
			}()
		}
	}()
	return o
}

func (o *scriptedOrigin) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reqs[len(o.reqs)-1]
}

// TestExcessBodyBytesDoNotPoisonAnotherKey: an origin writes more than its Content-Length for
// /long, the excess arriving a moment later. The pooled connection is reused for /victim, whose
// viewer must get /victim's answer, and the cache must not keep the excess under /victim.
func TestExcessBodyBytesDoNotPoisonAnotherKey(t *testing.T) {
	sent := make(chan struct{})
	o := newScriptedOrigin(t, func(c net.Conn, req string) bool {
		if strings.HasPrefix(req, "GET /long ") {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 5\r\n\r\nhello")
			time.Sleep(30 * time.Millisecond) // after the node has read its answer
			io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 8\r\n\r\nsmuggled")
			close(sent)
			return true
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 6\r\n\r\nvictim")
		return true
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.url, nil)
	if r := n.get(t, "/long"); r.body != "hello" {
		t.Fatalf("/long: %q", r.body)
	}
	<-sent
	time.Sleep(20 * time.Millisecond) // loopback delivers it: the excess waits on the idle connection
	for _, want := range []string{"Miss from verge", "Hit from verge"} {
		r := n.get(t, "/victim")
		if r.body != "victim" || r.Header.Get("X-Cache") != want {
			t.Fatalf("/victim: %q (%s), want %q (%s): another response's excess bytes were served and cached",
				r.body, r.Header.Get("X-Cache"), "victim", want)
		}
	}
}

// TestNoInventedContentType: Verge must not add a Content-Type the origin did not send (a
// browser sniffs a typeless body; "text/plain" makes it show HTML or scripts as text), on the
// miss nor on the hits that follow.
func TestNoInventedContentType(t *testing.T) {
	o := newScriptedOrigin(t, func(c net.Conn, req string) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 15\r\n\r\n<html>hi</html>")
		return true
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", o.url, nil)
	for i := 0; i < 2; i++ {
		r := n.get(t, "/page")
		if ct, ok := r.Header["Content-Type"]; ok {
			t.Fatalf("%s: Content-Type %q, the origin sent none", r.Header.Get("X-Cache"), ct)
		}
	}
}

// TestRepeatedFieldOrderKept: dropping the viewer's validators from a cacheable request (and
// hop-by-hop fields from the origin's answer) must not reorder repeated fields (RFC 9110 5.3).
func TestRepeatedFieldOrderKept(t *testing.T) {
	o := newScriptedOrigin(t, func(c net.Conn, req string) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\", cache: {headers: [Accept-Language]}}]\n", o.url, nil)
	// net/http sorts header names; this request sends the validator first, as browsers do.
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /o HTTP/1.1\r\nHost: v.example\r\nIf-None-Match: \"v1\"\r\nAccept-Language: da\r\nAccept-Language: en-gb\r\n\r\n")
	tp := textproto.NewReader(bufio.NewReader(c))
	if _, err := tp.ReadLine(); err != nil {
		t.Fatal(err)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(o.last(), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Accept-Language") {
			got = append(got, strings.TrimSpace(v))
		}
	}
	if !slices.Equal(got, []string{"da", "en-gb"}) {
		t.Errorf("origin got Accept-Language %q, want [da en-gb]", got)
	}
	if want := []string{"</a.css>; rel=preload", "</b.js>; rel=preload"}; !slices.Equal(hdr["Link"], want) {
		t.Errorf("viewer got Link %q, want %q", hdr["Link"], want)
	}
}
