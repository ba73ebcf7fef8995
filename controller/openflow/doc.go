// Package openflow is the OpenFlow 1.5 codec the ovnd controller uses to
// program br-int, with the Nicira extensions OVN relies on.
//
// It owns the wire format and nothing else: message framing (Marshal,
// Unmarshal), OXM matches over a field table (field.go) that includes the
// NXM/Nicira fields (registers, xreg/xxreg, tun_metadata, ct_*), flow,
// group and meter mods, bundles, Nicira actions (resubmit, ct/nat, learn,
// controller with pause, conjunction, check_pkt_larger...) and messages
// (packet-in2, resume, TLV table, packet-in format, ct zone flush), packet
// out, and flow dumps. Encoding and decoding are pure: no I/O, no
// goroutines, no global state beyond the read-only field table.
//
// Everything renders as text the way `ovs-ofctl -O OpenFlow15` prints it:
// FlowMod.String as ofp-print, FlowStats.NoStats as
// `dump-flows --no-stats`, Match.String and each Action's String as the
// match and action syntax. ParseFlow reads that syntax back, for tests.
//
// Conn is the one piece with I/O: it wraps a net.Conn, does the hello
// handshake, assigns xids, matches replies (including multipart) to
// requests, answers echoes, and hands everything unsolicited (packet-ins,
// errors for messages sent with Send) to Async. Its reader goroutine is
// stopped and waited for by Close.
//
// Large work stays small in memory: BundleFunc builds each message as it
// sends it and tracks a bundle's adds as one xid range (OVS answers an
// add only to refuse it), and DumpFlowsFunc streams a dump, decoding one
// reply at a time with the reader at most a few replies ahead.
//
//	c, err := openflow.Dial(ctx, "unix", "/var/run/openvswitch/br-int.mgmt", log)
//	fm := openflow.NewFlowMod(openflow.FlowAdd, 8, 50)
//	fm.Match = openflow.Match{openflow.Reg(14).Exact(1), openflow.F("metadata").Exact(1)}
//	fm.Instructions.Apply = []openflow.Action{openflow.ResubmitTable(9)}
//	err = c.Bundle(ctx, bundleID, []openflow.Message{fm}) // atomic
//	flows, err := c.DumpFlows(ctx, openflow.NewFlowStatsRequest())
//
// OVS checks match prerequisites in the order fields appear, so a Match
// lists eth_type before nw_proto before L4 fields, and ct_state (+trk-inv)
// before ct_nw_src and friends; ParseFlow sorts them that way.
package openflow
