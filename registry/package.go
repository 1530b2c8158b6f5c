package registry

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vergecdn/verge/hooks"
)

// Limits bound packages. Lambda@Edge's package limit depends on the event type, but code is
// uploaded before it is associated: so an upload is checked against the largest limit
// (Origin, or CloudFrontFunctions for that runtime) and an association (or an alias or
// $LATEST change under an association) against its event's limit (Viewer or Origin).
// Zero fields take the defaults.
type Limits struct {
	// Viewer is the largest package for viewer-request/viewer-response. Default 1 MiB.
	Viewer int64
	// Origin is the largest package for origin events, and for any upload. Default 50 MiB.
	Origin int64
	// CloudFrontFunctions is the largest cloudfront-functions code. Default 10 KiB.
	CloudFrontFunctions int64
	// Unpacked caps the total size of a zip's files once inflated (zip-bomb guard).
	// Default 50 MiB.
	Unpacked int64
	// Files caps the number of files in a zip. Default 1000.
	Files int
}

// WithDefaults fills zero fields.
func (l Limits) WithDefaults() Limits {
	if l.Viewer <= 0 {
		l.Viewer = 1 << 20
	}
	if l.Origin <= 0 {
		l.Origin = 50 << 20
	}
	if l.CloudFrontFunctions <= 0 {
		l.CloudFrontFunctions = 10 << 10
	}
	if l.Unpacked <= 0 {
		l.Unpacked = 50 << 20
	}
	if l.Files <= 0 {
		l.Files = 1000
	}
	return l
}

// ForEvent is the package limit of an event type.
func (l Limits) ForEvent(s hooks.Stage) int64 {
	if s.IsViewer() {
		return l.Viewer
	}
	return l.Origin
}

// ForUpload is the package limit of an upload of runtime rt.
func (l Limits) ForUpload(rt string) int64 {
	if hooks.IsCloudFrontFunctions(rt) {
		return l.CloudFrontFunctions
	}
	return l.Origin
}

// Source is an unpacked package: files by slash-separated relative path, and the entry file.
type Source struct {
	Files map[string]string
	Entry string
}

// IsZip reports whether pkg starts like a zip archive (a local file header, or the end
// record of an empty archive).
func IsZip(pkg []byte) bool {
	return bytes.HasPrefix(pkg, []byte("PK\x03\x04")) || bytes.HasPrefix(pkg, []byte("PK\x05\x06"))
}

// SingleFileName reports whether name may name the file of a single-file package: a base
// name (no folder, not hidden, at most 255 bytes, no control characters) ending in .js, .cjs
// or .mjs (the suffix chooses CommonJS or ES module as in Node). The CLI uploads a file under
// its own name, so that errors and stack traces name the file the user wrote.
func SingleFileName(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, ".js"), ".cjs"), ".mjs")
	if base == name || base == "" || len(name) > 255 || strings.HasPrefix(name, ".") || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' || r == '\\' })
}

// Unpack reads a package: a zip (detected by its magic bytes) or one JavaScript file. entry
// names the handler's file: in a zip, a path in it (empty means "index.js" if present, else
// the only .js file); for a single file, the file's own name (SingleFileName; empty means
// "index.js", the name of every single file stored before names were kept). It enforces l's
// Unpacked and Files limits, reads no more than the limits whatever the zip headers claim,
// and refuses unsafe or duplicate paths.
func Unpack(pkg []byte, entry string, l Limits) (Source, error) {
	l = l.WithDefaults()
	if !IsZip(pkg) {
		if !utf8.Valid(pkg) {
			return Source{}, invalid("the code is neither a zip archive nor UTF-8 text")
		}
		if int64(len(pkg)) > l.Unpacked {
			return Source{}, &TooLargeError{What: "unpacked package", Size: int64(len(pkg)), Limit: l.Unpacked}
		}
		if entry == "" {
			entry = "index.js"
		}
		if !SingleFileName(entry) {
			return Source{}, invalid("entry %q: a single file's name is a base name ending in .js, .cjs or .mjs", entry)
		}
		return Source{Files: map[string]string{entry: string(pkg)}, Entry: entry}, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return Source{}, invalid("zip: %v", err)
	}
	if len(zr.File) > l.Files {
		return Source{}, &TooLargeError{What: "zip's file count", Size: int64(len(zr.File)), Limit: int64(l.Files)}
	}
	src := Source{Files: map[string]string{}}
	var total int64
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") || f.FileInfo().IsDir() {
			continue
		}
		name, err := cleanZipPath(f.Name)
		if err != nil {
			return Source{}, err
		}
		if _, dup := src.Files[name]; dup {
			return Source{}, invalid("zip: duplicate file %q", name)
		}
		data, err := readZipFile(f, l.Unpacked-total)
		if err != nil {
			return Source{}, err
		}
		total += int64(len(data))
		if !utf8.Valid(data) {
			return Source{}, invalid("zip: %s is not UTF-8 text", name)
		}
		src.Files[name] = string(data)
	}
	if len(src.Files) == 0 {
		return Source{}, invalid("zip: no files")
	}
	src.Entry, err = pickEntry(src.Files, entry)
	return src, err
}

// readZipFile inflates f, reading at most budget bytes: a file that inflates past the budget
// is refused without reading further, whatever its header says.
func readZipFile(f *zip.File, budget int64) ([]byte, error) {
	tooBig := &TooLargeError{What: "unpacked package", Size: -1, Limit: budget}
	if budget < 0 || f.UncompressedSize64 > uint64(budget) {
		return nil, tooBig
	}
	rc, err := f.Open()
	if err != nil {
		return nil, invalid("zip: %s: %v", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, budget+1))
	if err != nil {
		return nil, invalid("zip: %s: %v", f.Name, err)
	}
	if int64(len(data)) > budget {
		return nil, tooBig
	}
	return data, nil
}

func cleanZipPath(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return "", invalid("zip: unsafe file name %q", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", invalid("zip: unsafe file name %q", name)
		}
	}
	clean := path.Clean(name)
	if clean == "." || len(clean) > 512 {
		return "", invalid("zip: unsafe file name %q", name)
	}
	return clean, nil
}

func pickEntry(files map[string]string, entry string) (string, error) {
	if entry != "" {
		e := path.Clean(strings.TrimPrefix(entry, "./"))
		if _, ok := files[e]; !ok {
			return "", invalid("entry %q is not in the package", entry)
		}
		return e, nil
	}
	if _, ok := files["index.js"]; ok {
		return "index.js", nil
	}
	var js []string
	for n := range files {
		if strings.HasSuffix(n, ".js") || strings.HasSuffix(n, ".cjs") {
			js = append(js, n)
		}
	}
	if len(js) == 1 {
		return js[0], nil
	}
	sort.Strings(js)
	return "", invalid("the package has %d JavaScript files and no index.js: name the entry (%s)", len(js), strings.Join(js, ", "))
}

// checkSize refuses a package of size bytes over limit.
func checkSize(size, limit int64, what string) error {
	if size > limit {
		return &TooLargeError{What: what, Size: size, Limit: limit}
	}
	return nil
}
