package cluster

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
)

// slogWriter adapts memberlist's *log.Logger to slog: each line memberlist writes
// ("[WARN] memberlist: Was able to connect to ...") becomes one slog record at the level its
// prefix names, with the prefix and the "memberlist: " tag stripped.
type slogWriter struct {
	log *slog.Logger
}

// newMemberlistLogger returns a *log.Logger for memberlist that writes to l.
func newMemberlistLogger(l *slog.Logger) *log.Logger {
	return log.New(slogWriter{log: l.With("component", "memberlist")}, "", 0)
}

// Write logs one line. It never fails, so memberlist never sees a logging error.
func (w slogWriter) Write(p []byte) (int, error) {
	n := len(p)
	level, msg := parseLevel(string(bytes.TrimRight(p, "\r\n")))
	if w.log.Enabled(context.Background(), level) {
		w.log.Log(context.Background(), level, msg)
	}
	return n, nil
}

// parseLevel splits memberlist's "[LEVEL] " prefix from a line. Lines without a known prefix
// log at Info.
func parseLevel(line string) (slog.Level, string) {
	level := slog.LevelInfo
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 0 {
			switch line[1:end] {
			case "DEBUG", "TRACE":
				level = slog.LevelDebug
			case "INFO":
				level = slog.LevelInfo
			case "WARN", "WARNING":
				level = slog.LevelWarn
			case "ERR", "ERROR":
				level = slog.LevelError
			default:
				return level, line
			}
			line = strings.TrimLeft(line[end+1:], " ")
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	return level, line
}
