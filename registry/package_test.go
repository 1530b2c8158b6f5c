package registry_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vergecdn/verge/registry"
)

func TestUnpack(t *testing.T) {
	lim := registry.Limits{Unpacked: 1 << 20, Files: 3}
	cases := []struct {
		name  string
		pkg   []byte
		entry string
		want  error
		entr  string
	}{
		{"single file", []byte(hello), "", nil, "index.js"},
		{"single file named", []byte(hello), "syntax.js", nil, "syntax.js"},
		{"single file named index.js", []byte(hello), "index.js", nil, "index.js"},
		{"single file, module", []byte(hello), "h.mjs", nil, "h.mjs"},
		{"single file in a folder", []byte(hello), "lib/main.js", registry.ErrInvalid, ""},
		{"single file up a folder", []byte(hello), "../main.js", registry.ErrInvalid, ""},
		{"single file, not JavaScript", []byte(hello), "main.txt", registry.ErrInvalid, ""},
		{"single file, dot", []byte(hello), ".js", registry.ErrInvalid, ""},
		{"binary", []byte{0xff, 0xfe, 0}, "", registry.ErrInvalid, ""},
		{"zip with index", zipOf(t, map[string]string{"index.js": hello, "lib/a.js": "x"}), "", nil, "index.js"},
		{"zip, one js", zipOf(t, map[string]string{"main.js": hello, "data.json": "{}"}), "", nil, "main.js"},
		{"zip, explicit entry", zipOf(t, map[string]string{"a.js": hello, "b.js": hello}), "./b.js", nil, "b.js"},
		{"zip, ambiguous", zipOf(t, map[string]string{"a.js": hello, "b.js": hello}), "", registry.ErrInvalid, ""},
		{"zip, missing entry", zipOf(t, map[string]string{"a.js": hello}), "z.js", registry.ErrInvalid, ""},
		{"zip slip", zipOf(t, map[string]string{"../evil.js": hello}), "", registry.ErrInvalid, ""},
		{"absolute", zipOf(t, map[string]string{"/etc/x.js": hello}), "", registry.ErrInvalid, ""},
		{"too many files", zipOf(t, map[string]string{"a": "", "b": "", "c": "", "d.js": ""}), "", registry.ErrTooLarge, ""},
		{"bomb", zipOf(t, map[string]string{"index.js": strings.Repeat(" ", 2<<20)}), "", registry.ErrTooLarge, ""},
		{"corrupt zip", []byte("PK\x03\x04garbage"), "", registry.ErrInvalid, ""},
		{"empty zip", zipOf(t, map[string]string{}), "", registry.ErrInvalid, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := registry.Unpack(c.pkg, c.entry, lim)
			if c.want == nil && err != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err == nil && (src.Entry != c.entr || src.Files[src.Entry] == "") {
				t.Fatalf("entry %q (files %v), want %q", src.Entry, len(src.Files), c.entr)
			}
		})
	}
}

// TestUnpackLyingHeader: a zip entry whose header understates its size is still cut off at
// the budget.
func TestUnpackLyingHeader(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "index.js", Method: zip.Store, CompressedSize64: 4 << 20, UncompressedSize64: 10})
	_, _ = w.Write(bytes.Repeat([]byte("a"), 4<<20))
	_ = zw.Close()
	_, err := registry.Unpack(buf.Bytes(), "", registry.Limits{Unpacked: 1 << 20})
	if err == nil {
		t.Fatal("a lying header was believed")
	}
}

func TestParseRef(t *testing.T) {
	cases := []struct{ in, name, q string }{
		{"hello", "hello", "$LATEST"},
		{"hello:7", "hello", "7"},
		{"hello:live", "hello", "live"},
		{"hello:$LATEST", "hello", "$LATEST"},
		{"a-b_c:x-1", "a-b_c", "x-1"},
		{"", "", ""}, {":1", "", ""}, {"hello:", "", ""}, {"hello:07", "", ""}, {"hello:-1", "", ""},
		{"hello:1:2", "", ""}, {"he llo", "", ""}, {"hello:$latest", "", ""}, {strings.Repeat("a", 65), "", ""},
	}
	for _, c := range cases {
		name, q, err := registry.ParseRef(c.in)
		if c.name == "" {
			if err == nil {
				t.Errorf("%q: accepted as %s:%s", c.in, name, q)
			}
			continue
		}
		if err != nil || name != c.name || q != c.q {
			t.Errorf("%q: got %s:%s %v", c.in, name, q, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"hello", "hello:1", "hello:live", "hello:$LATEST", "a:b:c", ":", "x:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, q, err := registry.ParseRef(s)
		if err != nil {
			return
		}
		if !registry.ValidName(name) || !registry.ValidQualifier(q) {
			t.Fatalf("%q -> %q %q", s, name, q)
		}
		if s != name && s != name+":"+q {
			t.Fatalf("%q does not round-trip: %q %q", s, name, q)
		}
	})
}

func FuzzUnpack(f *testing.F) {
	f.Add(zipOf(f, map[string]string{"index.js": hello, "lib/x.js": "module.exports=1"}), "")
	f.Add(zipOf(f, map[string]string{"a.js": hello}), "a.js")
	f.Add([]byte(hello), "")
	f.Add([]byte(hello), "handler.mjs")
	f.Add([]byte(hello), "../a/b.js")
	f.Add([]byte("PK\x03\x04"), "")
	lim := registry.Limits{Unpacked: 64 << 10, Files: 16}
	f.Fuzz(func(t *testing.T, pkg []byte, entry string) {
		src, err := registry.Unpack(pkg, entry, lim)
		if err != nil {
			return
		}
		total := 0
		for name, s := range src.Files {
			if strings.HasPrefix(name, "/") || strings.Contains(name, "..") && strings.Contains("/"+name+"/", "/../") ||
				!registry.IsZip(pkg) && !registry.SingleFileName(name) {
				t.Fatalf("unsafe name %q", name)
			}
			total += len(s)
		}
		if total > 64<<10 || len(src.Files) > 16 {
			t.Fatalf("limits not enforced: %d bytes, %d files", total, len(src.Files))
		}
		if _, ok := src.Files[src.Entry]; !ok {
			t.Fatalf("entry %q not in files", src.Entry)
		}
	})
}
