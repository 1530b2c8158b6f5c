package edge

import (
	"bufio"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// rawGet sends a GET over a plain connection and returns the response's header lines as they
// were written, so tests can check the case of names (net/http canonicalizes them).
func rawGet(t *testing.T, addr, path string) []string {
	t.Helper()
	c := rawDial(t, addr)
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r := textproto.NewReader(bufio.NewReader(c))
	var lines []string
	for {
		l, err := r.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if l == "" {
			return lines
		}
		lines = append(lines, l)
	}
}

// rawDial connects to addr for at most 10 s of talk; the connection closes when the test ends.
func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// rawOrigin serves one fixed raw response to every request, header case as written.
func rawOrigin(t *testing.T, response string) string { return rawServer(t, response, false) }

// resettingOrigin writes response and then closes the connection: with a short body, a reset
// mid-body.
func resettingOrigin(t *testing.T, response string) string { return rawServer(t, response, true) }

func rawServer(t *testing.T, response string, closeAfter bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					tp := textproto.NewReader(br)
					if _, err := tp.ReadLine(); err != nil { // request line
						return
					}
					if _, err := tp.ReadMIMEHeader(); err != nil {
						return
					}
					if _, err := c.Write([]byte(response)); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestHeaderCaseKept(t *testing.T) {
	url := rawOrigin(t, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nX-XSS-Protection: 0\r\nx-lower: 1\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok")
	n := startNode(t, "origins: [{id: o, url: ORIGIN}]\nbehaviors: [{path: \"*\"}]\n", url, nil)
	for _, want := range []string{"Miss from verge", "Hit from verge"} {
		lines := strings.Join(rawGet(t, n.Addr(), "/"), "\n")
		for _, h := range []string{"X-XSS-Protection: 0", "x-lower: 1", "X-Cache: " + want} {
			if !strings.Contains(lines, h) {
				t.Errorf("response lacks %q:\n%s", h, lines)
			}
		}
	}
}
