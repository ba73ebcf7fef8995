package database

import (
	"fmt"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// The RFC 7047 error strings (and the ones ovsdb-server adds), carried in
// Error.Tag exactly as they appear on the wire.
const (
	TagSyntax             = "syntax error"
	TagConstraint         = "constraint violation"
	TagReferential        = "referential integrity violation"
	TagResourcesExhausted = "resources exhausted"
	TagIO                 = "I/O error"
	TagDuplicateUUIDName  = "duplicate uuid-name"
	TagDuplicateUUID      = "duplicate uuid"
	TagDomain             = "domain error"
	TagRange              = "range error"
	TagTimedOut           = "timed out"
	TagNotSupported       = "not supported"
	TagAborted            = "aborted"
	TagNotOwner           = "not owner"
	TagUnknownColumn      = "unknown column"
	TagUnknownFunction    = "unknown function"
	TagUnknownMutator     = "unknown mutator"
	TagUnknownDatabase    = "unknown database"
	TagOVSDB              = "ovsdb error"
)

// Error is an OVSDB error: an RFC 7047 error string, its details, and
// optionally the JSON text that caused it.
type Error struct {
	Tag     string
	Details string
	Syntax  string
}

func (e *Error) Error() string {
	if e.Details == "" {
		return e.Tag
	}
	return e.Tag + ": " + e.Details
}

// AppendJSON appends e as an RFC 7047 error object.
func (e *Error) AppendJSON(b []byte) []byte {
	b = append(b, `{"error":`...)
	b = ovsjson.AppendString(b, e.Tag)
	if e.Details != "" {
		b = append(b, `,"details":`...)
		b = ovsjson.AppendString(b, e.Details)
	}
	if e.Syntax != "" {
		b = append(b, `,"syntax":`...)
		b = ovsjson.AppendString(b, e.Syntax)
	}
	return append(b, '}')
}

func errorf(tag, format string, args ...any) *Error {
	return &Error{Tag: tag, Details: fmt.Sprintf(format, args...)}
}

func syntaxErr(syntax string, format string, args ...any) *Error {
	return &Error{Tag: TagSyntax, Details: fmt.Sprintf(format, args...), Syntax: syntax}
}
