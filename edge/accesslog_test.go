package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/vergecdn/verge/internal/syncbuf"
)

func TestAccessLog(t *testing.T) {
	o := staticOrigin(t, "hello", "Cache-Control", "max-age=60")
	cfg, err := ParseConfig("log.yaml", []byte("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\norigins: [{id: o, url: "+o.URL+"}]\nbehaviors: [{path: \"*\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var buf syncbuf.Buffer
	s, err := New(cfg, Deps{AccessLog: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/a?b=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx) // flushes the buffered access log
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace([]byte(buf.String())), &line); err != nil {
		t.Fatalf("access log is not one JSON line: %q (%v)", buf.String(), err)
	}
	for k, want := range map[string]any{"msg": "request", "method": "GET", "uri": "/a?b=1", "status": 200.0, "cache": "Miss", "behavior": "*", "bytes": 5.0, "client": "127.0.0.1"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v (line %v)", k, line[k], want, line)
		}
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("no duration_ms in %v", line)
	}
}
