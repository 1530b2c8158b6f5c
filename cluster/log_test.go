package cluster

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		line  string
		level slog.Level
		msg   string
	}{
		{"[DEBUG] memberlist: Initiating push/pull sync with: x", slog.LevelDebug, "Initiating push/pull sync with: x"},
		{"[WARN] memberlist: Was able to connect", slog.LevelWarn, "Was able to connect"},
		{"[ERR] memberlist: Failed to send", slog.LevelError, "Failed to send"},
		{"[ERROR] boom", slog.LevelError, "boom"},
		{"[INFO] memberlist: Suspect x", slog.LevelInfo, "Suspect x"},
		{"no prefix", slog.LevelInfo, "no prefix"},
		{"[odd] thing", slog.LevelInfo, "[odd] thing"},
	}
	for _, tt := range tests {
		level, msg := parseLevel(tt.line)
		if level != tt.level || msg != tt.msg {
			t.Errorf("parseLevel(%q) = %v %q, want %v %q", tt.line, level, msg, tt.level, tt.msg)
		}
	}
}

func TestMemberlistLogger(t *testing.T) {
	var buf bytes.Buffer
	l := newMemberlistLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Printf("[DEBUG] memberlist: hidden")
	l.Printf("[WARN] memberlist: shown %d", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("want exactly one JSON record, got %q: %v", buf.String(), err)
	}
	if rec["level"] != "WARN" || rec["msg"] != "shown 1" || rec["component"] != "memberlist" {
		t.Fatalf("record = %v", rec)
	}
}
