// Package ovsdbfile owns the on-disk storage of ovnd's embedded OVSDB
// server: a database file in the OVSDB standalone format of ovsdb(5), kept
// crash-safe, written with group commit and compacted online.
//
// The package is data-agnostic. A record is a JSON object handed over as
// bytes; the caller (embeddeddb/database) produces and interprets the
// contents. What the package guarantees is the framing, the ordering, the
// durability and the atomic replacement of the file.
//
// # Format
//
// The facts below come from ovsdb(5) and from files written by the real
// ovsdb-tool and ovsdb-server of Open vSwitch 3.1, checked byte by byte.
//
// A file is a sequence of records. Each record is two lines:
//
//	OVSDB JSON <length> <sha1>\n
//	<json>\n
//
// <length> is the decimal number of bytes of the second line including its
// terminating LF, and <sha1> is the SHA-1 of those same bytes (JSON plus LF)
// as 40 lowercase hex digits. Words in the header are separated by exactly
// one space. The JSON is written compact, on one line (LFs inside strings
// are escaped); readers tolerate LFs inside as long as length and hash
// agree. The magic "CLUSTER" instead of "JSON" marks a clustered database,
// which this package refuses (ErrClustered).
//
// The first record is the database schema (RFC 7047). Every later record is
// one committed transaction:
//
//	{"_date":<ms since epoch>,"Table":{"<row-uuid>":{<columns>}|null,...},...,"_is_diff":true,"_comment":"..."}
//
// ovsdb-server and ovsdb-tool transact 3.1 write "_date" first, then one
// member per touched table, then "_is_diff":true, then "_comment" only when
// the transaction carried a non-empty comment. null deletes a row. With
// "_is_diff":true a modified row holds, per changed column, the difference
// (for sets and maps, the elements to toggle; for scalars, the new value);
// without it, the columns' new values. A new row omits default values.
//
// Compaction rewrites the file as the schema plus one transaction record
// that inserts every row:
//   - ovsdb-tool compact writes that record without "_is_diff" and with
//     "_comment":"compacted by ovsdb-tool 3.1.0";
//   - ovsdb-server's online compaction writes it with "_is_diff":true (a
//     diff against the empty database, which reads the same) and
//     "_comment":"compacting database online".
//
// Both re-serialize the schema record. Later transactions follow the
// snapshot record as usual.
//
// A torn or corrupt tail makes ovsdb-tool fail ("error reading 103 bytes
// starting at offset 14994 (End of file)", "parse error at offset 15097 in
// header line"), while ovsdb-server logs the error, serves the good prefix,
// and overwrites the bad tail with its next write. Open here does the same
// eagerly: it logs and truncates at the end of the last good record.
//
// ovsdb-server and ovsdb-tool serialize writers with an fcntl lock on
// ".<name>.~lock~" beside the file. Log holds the same lock (as an open file
// description lock on Linux, which conflicts with theirs), so ovnd and a
// real ovsdb-server never write the same file at once.
//
// # Durability
//
// Create, WriteFile, Compact and Convert write a temporary file "<path>.tmp",
// fsync it, rename (or link) it into place and fsync the directory. Append
// only queues; a writer goroutine owned by the Log writes each batch of
// queued records with one write(2) and calls fdatasync when the batch holds
// a record appended as durable (group commit). A kill -9 at any moment
// leaves a file whose records are a prefix of those appended, holding every
// durable record whose Wait returned nil.
package ovsdbfile
