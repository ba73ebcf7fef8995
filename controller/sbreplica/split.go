package sbreplica

import (
	"io"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// maxMessage bounds one JSON-RPC message from the server. An initial
// reply of a large SB is tens of MB.
const maxMessage = 1 << 30

// newSplitter cuts the server's byte stream into messages
// (ovsjson.Splitter); fastjson does the real parsing.
func newSplitter(r io.Reader) *ovsjson.Splitter { return ovsjson.NewSplitter(r, maxMessage) }
