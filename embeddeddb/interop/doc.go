// Package interop owns the proof that the database role is a drop-in for
// ovsdb-server: it starts a database server (ovnd's database role, or the
// real ovsdb-server as the reference) in a temp dir and drives it with the
// real OVN and OVS clients (ovn-nbctl, ovn-sbctl, ovsdb-client, ovsdb-tool,
// ovn-northd) and with libovsdb. The tests live beside this file.
//
// The server under test is the target: OVND_INTEROP_TARGET=ovnd or
// OVND_INTEROP_TARGET=ovsdb-server, DefaultTarget when unset. For ovnd the
// binary is built once per test process from this module, or taken from
// OVND_BIN; a target that does not build or does not accept connections
// within a few seconds fails the test. Differential tests always run the
// real ovsdb-server beside the target and compare what the clients print.
//
// What the tests cover, by file:
//
//	nbctl_test, sbctl_test     testdata/nbctl.txt and sbctl.txt, directly
//	                           and through ovn-nbctl/ovn-sbctl daemons
//	differential_test          every script on ovsdb-server and the target,
//	                           transcripts compared (UUIDs renamed)
//	client_test                ovsdb-client: get-schema, _Server, dumps,
//	                           monitor, monitor-cond, monitor-cond-since
//	transactwire_test,         RFC 7047 methods, transact operations,
//	monitorwire_test,          conditions and mutators, the three monitor
//	condchange_test, lock_test flavours, condition changes and locks,
//	                           compared as JSON on the wire
//	rawsock_test               bad input: malformed JSON, unknown names,
//	                           constraint errors, a 200 MiB message, half
//	                           a transaction
//	northd_test,               the real ovn-northd: lock, failover, and its
//	northd_diff_test           SB output compared with ovsdb-server's
//	libovsdb_test              a libovsdb client (models in ovnschema/nbdb): cache,
//	                           references, reconnect after restart
//	daemon_test                an ovn-nbctl daemon across a restart
//	persist_test,              restart after SIGTERM/SIGKILL, files moved
//	upgrade_test               between ovsdb-server and the target, ovsdb-tool
//	                           on the target's files, schema conversion
//	connection_test,           tcp and SSL remotes, Connection rows,
//	tls_test, probe_test,      set-ssl, inactivity probes, RBAC and
//	rbac_test                  read-only SB remotes
//	concurrency_test,          racing ovn-nbctl writers, a 1000-port
//	bulk_test                  transaction
//
// Scripts of client commands and their expected output live in
// testdata/*.txt; see script for the format.
package interop
