package registry

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of failure a caller can tell apart with errors.Is. The admin API maps them to
// HTTP statuses: ErrNotFound 404, ErrConflict 409, ErrInvalid 400, ErrTooLarge 413,
// ErrForbidden 403.
var (
	// ErrForbidden: this node may not do it, another may (a publish in a signing fleet on a
	// node without the fleet's private key).
	ErrForbidden = errors.New("forbidden")
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrInvalid   = errors.New("invalid")
	ErrTooLarge  = errors.New("too large")
	// ErrCorrupt: a blob's content does not match its sha256 (or is missing).
	ErrCorrupt = errors.New("corrupt blob")
)

// ConflictError is returned when a version, alias or function cannot be deleted (or changed)
// because something still uses it. errors.Is(err, ErrConflict) holds.
type ConflictError struct {
	Target string   // what the caller wanted to delete, e.g. "hello:3"
	UsedBy []string // what uses it, e.g. "alias hello:live", "association default/viewer-request"
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("registry: %s is in use by %s", e.Target, strings.Join(e.UsedBy, ", "))
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// TooLargeError is returned when a package is over a size limit. errors.Is(err, ErrTooLarge)
// holds.
type TooLargeError struct {
	What  string // "package", "unpacked package", "zip entry"...
	Size  int64  // bytes, or -1 when reading stopped at the limit
	Limit int64  // bytes
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("registry: the %s is over the limit of %d bytes", e.What, e.Limit)
	}
	return fmt.Sprintf("registry: the %s is %d bytes, over the limit of %d", e.What, e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// missingVersionError: a version named, or pointed at by an alias, is not in this registry.
// errors.Is(err, ErrNotFound) holds.
type missingVersionError struct {
	function string
	number   int
	via      string // "alias NAME:ALIAS" when an alias points at it
	refused  string // why this node refused it from a peer, when it did (gate.refusal)
}

func (e *missingVersionError) Error() string {
	v := fmt.Sprintf("version %s:%d", e.function, e.number)
	switch {
	case e.refused != "" && e.via != "":
		return fmt.Sprintf("registry: %s points at %s, which this node refused: %s", e.via, v, e.refused)
	case e.refused != "":
		return fmt.Sprintf("registry: %s is not on this node, which refused it: %s", v, e.refused)
	case e.via != "":
		return fmt.Sprintf("registry: %s points at %s, which this node does not hold: not found", e.via, v)
	}
	return "registry: " + v + ": not found"
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *missingVersionError) Is(target error) bool { return target == ErrNotFound }

func notFound(format string, args ...any) error {
	return fmt.Errorf("registry: "+format+": %w", append(args, ErrNotFound)...)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("registry: "+format+": %w", append(args, ErrInvalid)...)
}

// ErrNotReady: a target may not run here (yet): its code blob has not arrived from a peer,
// or, in a signing fleet, it is not signed. The activator keeps the previous target.
var ErrNotReady = errors.New("not ready")
