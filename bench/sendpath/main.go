// Command sendpath is a bare HTTP/1.1 server for one question of bench/run.sh's sendpath
// scenario: what it costs, on this kernel, to send a cached body of a given size in each of
// the ways a Go server can send it, measured side by side with nginx's proxy_cache (which
// sends its cache files with sendfile(2) from the page cache).
//
//	sendpath -listen 127.0.0.1:PORT -dir WWW -mode MODE [-spool DIR | -memfd]
//
// It reads every file of WWW into memory and into a spool file (in DIR, or a memfd), each
// body starting on a 2 MiB boundary, and answers GET /NAME with a fixed header and the body:
//
//	writev     header and body from memory in one writev(2): what Verge does today
//	more       header by send(2) with MSG_MORE, then sendfile(2) from the spool: one push
//	           of header and body together
//	separate   header by write(2), then sendfile(2): the only order fasthttp's body streams
//	           allow (it flushes the header before handing a file to sendfile)
//	cork       separate, inside TCP_CORK ... uncork
//
// It parses just enough HTTP for wrk (request line, headers, no body) and is not a server
// for anything else. Everything it binds is on the address given; it exits on SIGTERM.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// object is one body: in memory for writev, at off in the spool for the sendfile modes.
type object struct {
	header []byte
	body   []byte
	off    int64
}

// slot is the spool's alignment: a page-cache folio never spans two bodies.
const slot = 2 << 20

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	dir := flag.String("dir", "", "directory whose files are served as /NAME (required)")
	mode := flag.String("mode", "writev", "writev, more, separate or cork")
	spoolDir := flag.String("spool", "", "directory for the spool file [-dir]")
	memfd := flag.Bool("memfd", false, "spool in a memfd (tmpfs pages) instead of a file")
	flag.Parse()
	send, ok := modes[*mode]
	if !ok || *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *spoolDir == "" {
		*spoolDir = *dir
	}
	spool, err := openSpool(*spoolDir, *memfd)
	if err != nil {
		log.Fatal(err)
	}
	objects, err := load(*dir, spool)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sendpath: serving %d objects on %s (mode %s)\n", len(objects), ln.Addr(), *mode)
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c.(*net.TCPConn), objects, spool, send)
	}
}

// openSpool returns the descriptor bodies are sent from: an unlinked file in dir, so that it
// lives in that file system's page cache, or a memfd.
func openSpool(dir string, memfd bool) (int, error) {
	if memfd {
		return unix.MemfdCreate("sendpath", unix.MFD_CLOEXEC)
	}
	return unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
}

func load(dir string, spool int) (map[string]*object, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	objects := make(map[string]*object)
	var off int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if _, err := unix.Pwrite(spool, body, off); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		header := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\nCache-Control: max-age=3600\r\nAge: 0\r\nX-Cache: Hit from sendpath\r\n\r\n"
		objects["/"+e.Name()] = &object{header: []byte(header), body: body, off: off}
		off += (int64(len(body)) + slot - 1) / slot * slot
	}
	return objects, nil
}

func serve(c *net.TCPConn, objects map[string]*object, spool int, send sender) {
	defer c.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	r := bufio.NewReader(c)
	for {
		path, err := readRequest(r)
		if err != nil {
			return
		}
		o := objects[path]
		if o == nil {
			c.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
			continue
		}
		if err := send(c, rc, spool, o); err != nil {
			return
		}
	}
}

// readRequest reads one request head and returns its path.
func readRequest(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	fields := bytes.Fields(line)
	if len(fields) != 3 {
		return "", errors.New("bad request line")
	}
	path := string(fields[1])
	for {
		l, err := r.ReadSlice('\n')
		if err != nil {
			return "", err
		}
		if len(bytes.TrimRight(l, "\r\n")) == 0 {
			return path, nil
		}
	}
}

type sender func(c *net.TCPConn, rc syscall.RawConn, spool int, o *object) error

var modes = map[string]sender{
	"writev": func(c *net.TCPConn, _ syscall.RawConn, _ int, o *object) error {
		bufs := net.Buffers{o.header, o.body}
		_, err := bufs.WriteTo(c)
		return err
	},
	"more": func(_ *net.TCPConn, rc syscall.RawConn, spool int, o *object) error {
		return sendfile(rc, spool, o, o.header)
	},
	"separate": func(c *net.TCPConn, rc syscall.RawConn, spool int, o *object) error {
		if _, err := c.Write(o.header); err != nil {
			return err
		}
		return sendfile(rc, spool, o, nil)
	},
	"cork": func(c *net.TCPConn, rc syscall.RawConn, spool int, o *object) error {
		if err := cork(rc, 1); err != nil {
			return err
		}
		if _, err := c.Write(o.header); err != nil {
			return err
		}
		if err := sendfile(rc, spool, o, nil); err != nil {
			return err
		}
		return cork(rc, 0)
	},
}

// sendfile sends header (if any) with MSG_MORE, then o's body from the spool, waiting in Go's
// poller whenever the socket is full.
func sendfile(rc syscall.RawConn, spool int, o *object, header []byte) error {
	off, left := o.off, len(o.body)
	var serr error
	err := rc.Write(func(fd uintptr) bool {
		for len(header) > 0 {
			n, err := unix.SendmsgN(int(fd), header, nil, nil, unix.MSG_MORE)
			if err == unix.EAGAIN {
				return false
			}
			if err != nil {
				serr = err
				return true
			}
			header = header[n:]
		}
		for left > 0 {
			n, err := unix.Sendfile(int(fd), spool, &off, left)
			if err == unix.EAGAIN {
				return false
			}
			if err != nil {
				serr = err
				return true
			}
			if n == 0 {
				serr = errors.New("sendfile: the spool ended before the body")
				return true
			}
			left -= n
		}
		return true
	})
	return errors.Join(err, serr)
}

func cork(rc syscall.RawConn, on int) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, on)
	})
	return errors.Join(err, serr)
}
