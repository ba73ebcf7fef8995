// Package ovsjson owns the JSON text that OVSDB's JSON-RPC (RFC 7047)
// puts on the wire, below any parser: cutting a byte stream into
// messages, splitting a message into its raw members and elements
// without building a tree, writing JSON strings and UUIDs, and telling
// a UUID from a named UUID.
//
// It is a leaf: the database server, northd's SB writer and the
// controller's SB replica all use it, and it imports nothing of ovnd.
package ovsjson
