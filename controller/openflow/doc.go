// Package openflow is the OpenFlow 1.5 codec the ovnd controller uses to
// program br-int: message framing, OXM matches (including the Nicira
// NXM/OXM fields OVN relies on), flow, group and meter mods, bundles,
// Nicira actions and messages (ct, nat, learn-free subset, controller2,
// packet-in2, resume, TLV table), flow dumps, and a small Conn that does the
// handshake and matches replies to requests by xid.
//
// Encoding and decoding are pure: they do no I/O and keep no global state.
// Every match, action and flow renders as text the way
// `ovs-ofctl -O OpenFlow15` prints it, so tests and logs can compare flows
// as text.
package openflow
