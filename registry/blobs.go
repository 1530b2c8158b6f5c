package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// blobs is a content-addressed file store: dir/sha256/ab/abcdef... Files are written to a
// temporary file, fsynced and renamed into place (then the directory is fsynced), so a crash
// never leaves a partial blob under its final name. Reads verify the hash. Safe for
// concurrent use (renames are atomic; the same content always lands at the same path).
type blobs struct{ dir string }

func newBlobs(dir string) (*blobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("registry: blobs: %w", err)
	}
	return &blobs{dir: dir}, nil
}

// ValidSHA256 reports whether s is 64 lower-case hex digits.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

func (b *blobs) path(sum string) string {
	return filepath.Join(b.dir, "sha256", sum[:2], sum)
}

// put stores data durably and returns its sha256 (hex).
func (b *blobs) put(data []byte) (string, error) {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	p := b.path(sum)
	if got, err := b.get(sum); err == nil && len(got) == len(data) {
		return sum, nil // already stored and verified
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("registry: blobs: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("registry: blobs: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("registry: blobs: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("registry: blobs: fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("registry: blobs: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("registry: blobs: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return sum, nil
}

// get reads a blob and verifies its hash: a missing or mismatching blob is ErrCorrupt.
func (b *blobs) get(sum string) ([]byte, error) {
	if !ValidSHA256(sum) {
		return nil, invalid("blob name %q", sum)
	}
	data, err := os.ReadFile(b.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("registry: blob %s is missing: %w", sum, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: blobs: %w", err)
	}
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
		return nil, fmt.Errorf("registry: blob %s does not match its hash: %w", sum, ErrCorrupt)
	}
	return data, nil
}

// remove deletes a blob; a missing one is not an error.
func (b *blobs) remove(sum string) error {
	if !ValidSHA256(sum) {
		return nil
	}
	if err := os.Remove(b.path(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("registry: blobs: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("registry: blobs: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("registry: blobs: fsync dir: %w", err)
	}
	return nil
}

// has reports whether the blob is stored (without reading it; reads verify).
func (b *blobs) has(sum string) bool {
	if !ValidSHA256(sum) {
		return false
	}
	_, err := os.Stat(b.path(sum))
	return err == nil
}
