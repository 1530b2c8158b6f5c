package registry

import (
	"time"

	"github.com/vergecdn/verge/hooks"
)

// Runtime names (hooks.CanonicalRuntime). New records store the canonical name; records
// stored with the older "cloudfront-functions" (an alias of cloudfront-js-2.0) stay valid.
const (
	RuntimeLambdaEdge          = hooks.RuntimeLambdaEdge
	RuntimeCloudFrontJS1       = hooks.RuntimeCloudFrontJS1
	RuntimeCloudFrontJS2       = hooks.RuntimeCloudFrontJS2
	RuntimeCloudFrontFunctions = hooks.RuntimeCloudFrontFunctions
)

// Latest is the qualifier of a function's mutable, unpublished code.
const Latest = "$LATEST"

// DefaultBehavior names the default behavior in associations (the configuration's "*").
const DefaultBehavior = "default"

// Stamp says which change last wrote a record, for replication (issue 5): Revision is this
// node's registry revision at the write or merge (it only grows; it differs between nodes and
// takes no part in merges), Node the node that made the change, Time and Logical its hybrid
// logical clock reading (Time is the HLC's wall part). A fleet merges mutable records by
// (Time, Logical, Node): the greater stamp wins (see Stamp.Compare).
type Stamp struct {
	Revision uint64    `json:"revision"`
	Node     string    `json:"node"`
	Time     time.Time `json:"time"`
	Logical  uint32    `json:"logical,omitempty"`
}

// Code describes a stored package: its blob (content-addressed by SHA256 of the package
// bytes as uploaded), its format and entry file.
type Code struct {
	SHA256 string `json:"sha256"`
	// Size is the package size in bytes as uploaded (the zip, or the single file): the size
	// Lambda@Edge's package limits apply to.
	Size int64 `json:"size"`
	// UnpackedSize is the total size of the package's files.
	UnpackedSize int64 `json:"unpackedSize"`
	// Format is "js" (one source file) or "zip".
	Format string `json:"format"`
	// Entry is the file whose exports hold the handler: for a single file, its name as
	// uploaded (SingleFileName), "index.js" when none was given.
	Entry string `json:"entry"`
}

// Function is a function's mutable record: its $LATEST code and configuration.
type Function struct {
	Name        string `json:"name"`
	Runtime     string `json:"runtime"`
	Description string `json:"description,omitempty"`
	// KVS is the associated KeyValueStore's name (CloudFront Functions), "" for none.
	KVS    string `json:"kvs,omitempty"`
	Latest Code   `json:"latest"`
	// LastVersion is the highest version number ever published; numbers are never reused,
	// even after the version is deleted.
	LastVersion int       `json:"lastVersion"`
	Created     time.Time `json:"created"`
	Stamp
}

// Version is an immutable published version. Once written it never changes; it is identified
// by (Function, Number) and its code by Code.SHA256.
type Version struct {
	Function    string    `json:"function"`
	Number      int       `json:"version"`
	Runtime     string    `json:"runtime"`
	KVS         string    `json:"kvs,omitempty"` // the function's KeyValueStore when published
	Description string    `json:"description,omitempty"`
	Code        Code      `json:"code"`
	Created     time.Time `json:"created"`
	Node        string    `json:"node"`
	// Logical is the HLC's logical part of the publish (Created is its wall part); with Node
	// it orders concurrent publishes of one number (see the package doc).
	Logical uint32 `json:"logical,omitempty"`
	// Revision is this node's registry revision when the version was stored here (local).
	Revision uint64 `json:"revision,omitempty"`
	// Manifest is the signed manifest when the publishing node held the fleet's private key.
	Manifest *Manifest `json:"manifest,omitempty"`
}

// Alias is a mutable pointer to a published version, optionally weighted between two (as
// Lambda's RoutingConfig.AdditionalVersionWeights with one entry): a request runs
// AdditionalVersion with probability Weight and Version otherwise.
type Alias struct {
	Function          string `json:"function"`
	Name              string `json:"name"`
	Version           int    `json:"version"`
	AdditionalVersion int    `json:"additionalVersion,omitempty"` // 0: none
	// VersionNode and AdditionalNode pin the versions to the nodes that published them, so
	// that a concurrent publish of the same number elsewhere never changes what the alias
	// runs (see the package doc). Empty: the number's winner.
	VersionNode    string  `json:"versionNode,omitempty"`
	AdditionalNode string  `json:"additionalNode,omitempty"`
	Weight         float64 `json:"weight,omitempty"` // 0..1, of AdditionalVersion
	Description    string  `json:"description,omitempty"`
	Stamp
}

// Association binds a behavior's event type to a function qualifier.
type Association struct {
	// Behavior is the behavior's path pattern as configured, or DefaultBehavior.
	Behavior string `json:"behavior"`
	// Event is CloudFront's event type name ("viewer-request", ...).
	Event    string `json:"event"`
	Function string `json:"function"`
	// Qualifier is a version number or an alias name (Latest only in associations stored
	// before Associate refused it, which still run).
	Qualifier   string `json:"qualifier"`
	IncludeBody bool   `json:"includeBody,omitempty"`
	// QualifierNode pins a numeric qualifier to the node that published that version (see
	// Alias.VersionNode). Empty: the number's winner.
	QualifierNode string `json:"qualifierNode,omitempty"`
	Stamp
}

// AuditEntry records one change: who made it (a token name, or "local"), what, when, and
// the registry revision it produced. Entries are written in the same transaction as the
// change, so the audit log and the state never disagree.
type AuditEntry struct {
	Seq      uint64    `json:"seq"`
	Revision uint64    `json:"revision"`
	Time     time.Time `json:"time"`
	Who      string    `json:"who"`
	Action   string    `json:"action"` // put-code, publish, put-alias, delete-alias, associate, ...
	Target   string    `json:"target"` // e.g. "hello", "hello:3", "default/viewer-request"
	Detail   string    `json:"detail,omitempty"`
	Node     string    `json:"node"`
}
