package embeddeddb

import (
	"io"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// MaxMessageSize is the largest JSON-RPC message ovnd accepts. A client
// that sends a larger one gets its connection closed and a log line.
const MaxMessageSize = 128 << 20

// newSplitter cuts a client's byte stream into requests
// (ovsjson.Splitter): bytes that cannot be JSON end the connection at
// once, as with ovsdb-server's incremental parser.
func newSplitter(r io.Reader) *ovsjson.Splitter { return ovsjson.NewSplitter(r, MaxMessageSize) }
