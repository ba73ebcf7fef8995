package lflow

import (
	"reflect"
	"testing"
)

// checkNormalizer compiles each match with one Normalizer, in order,
// and with Compile, and wants the same terms (or the same error).
func checkNormalizer(t *testing.T, n *Normalizer, matches []string, sets Sets) {
	t.Helper()
	for _, m := range matches {
		want, werr := Compile(m, Symbols, sets)
		got, gerr := n.Compile(m, sets)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%q: error %v, want %v", m, gerr, werr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", m, got, want)
		}
	}
}

// TestNormalizerShapes runs matches of one shape after another, where
// a constant is a parameter and where it must not be (the field is
// tested twice, negated, relational, a slice of a register another
// comparison also tests, a mask, a contradiction), and sets of
// constants as parameters (repeated constants, masks, in a
// disjunction, two in one match, a set that overlaps another test of
// its field).
func TestNormalizerShapes(t *testing.T) {
	n := NewNormalizer(Symbols)
	checkNormalizer(t, n, []string{
		`inport == "p1" && eth.src == 00:00:00:00:00:01`,
		`inport == "p2" && eth.src == 00:00:00:00:00:02`,
		`inport == "p2" && eth.src == 00:00:00:00:00:01`,
		`ip4.dst == 10.0.0.1 && tcp.dst == 80`,
		`ip4.dst == 10.0.0.0/8 && tcp.dst == 443`,
		`ip4.dst == 10.0.0.2/255.0.255.0 && tcp.dst == 0`,
		`ip4.dst == 10.0.0.1 && ip4.dst == 10.0.0.1`,
		`ip4.dst == 10.0.0.1 && ip4.dst == 10.0.0.2`,
		`ip4.dst == 10.0.0.0/8 && ip4.dst == 10.1.0.0/16`,
		`ip4.dst == 10.0.0.0/8 && ip4.dst == 11.1.0.0/16`,
		`!(ip4.dst == 10.0.0.1) && tcp`,
		`!(ip4.dst == 10.0.0.3) && tcp`,
		`tcp.dst >= 1000 && ip4.src == 1.1.1.1`,
		`tcp.dst >= 1024 && ip4.src == 1.1.1.2`,
		`ip4.src == {1.1.1.1, 1.1.1.2} && tcp.dst == 22`,
		`ip4.src == {1.1.1.3, 1.1.1.3} && tcp.dst == 23`,
		`reg0[7] == 1 && reg0[8] == 0`,
		`reg0[7] == 0 && reg0[8] == 0`,
		`reg0[7] == 1 && reg0[8] == 1`,
		`reg0[0..7] == 5 && ct.est`,
		`reg0[0..7] == 6 && ct.new`,
		`eth.type == 0x800 && ip4`,
		`eth.type == 0x86dd && ip4`,
		`eth.type == 0x800 && ip4 && ip4.dst == 10.0.0.1`,
		`(ip4.src == 1.1.1.1 || ip6.src == ::1) && tcp.src == 5`,
		`(ip4.src == 1.1.1.9 || ip6.src == ::2) && tcp.src == 6`,
		`is_chassis_resident("p1") && outport == "p1"`,
		`is_chassis_resident("p2") && outport == "p3"`,
		`!is_chassis_resident("p2") && outport == "p3"`,
		`vlan.tci == 0x1005 && vlan.present`,
		`vlan.tci == 0x2005 && vlan.present`,
		`outport == "p1" || outport == "p2"`,
		`outport == "p2" || outport == "p2"`,
		`ip4.dst == 300`,
		`eth.src[40] == 1 && eth.dst == ff:ff:ff:ff:ff:ff`,
		`eth.src[40] == 0 && eth.dst == 01:00:00:00:00:00`,
		`arp.tpa == 10.0.0.5 && arp.op == 1 && inport == "a"`,
		`arp.tpa == 10.0.0.6 && arp.op == 2 && inport == "b"`,
		`nd_ns && ip6.dst == {fe80::1, ff02::1:ff00:1} && nd.target == fe80::1`,
		`nd_ns && ip6.dst == {fe80::2, ff02::1:ff00:2} && nd.target == fe80::2`,
		`nd_ns && ip6.dst == {fe80::3, fe80::3} && nd.target == fe80::3`,
		`nd_ns && ip6.dst == {fe80::4, ff02::1:ff00:4, ff02::1} && nd.target == fe80::4`,
		`ip4.src == {10.0.0.0/8, 10.1.0.1} && reg9[0] == 0`,
		`ip4.src == {10.0.0.1, 10.0.0.0/8} && reg9[0] == 1`,
		`ip4.src == {10.2.0.1, 10.2.0.255} && ip4.src == 10.2.0.1`,
		`ip4.src == {10.3.0.1, 10.3.0.255} && ip4.src == 10.3.0.9`,
		`(ip4.src == {1.1.1.1, 1.1.1.2} || ip6.src == ::1) && tcp.src == 5`,
		`(ip4.src == {1.1.1.3, 1.1.1.4} || ip6.src == ::1) && tcp.src == 5`,
		`(ip4.src == {1.1.1.3, 1.1.1.3} || ip6.src == ::2) && tcp.src == 6`,
		`outport == {"p1", "p2"} && ip4.dst == {1.1.1.1, 1.1.1.2}`,
		`outport == {"p3", "p4"} && ip4.dst == {1.1.1.3, 1.1.1.4}`,
		`outport == {"p4", "p3"} && ip4.dst == {1.1.1.3, 1.1.1.3}`,
		`tcp.dst == {80, 443} && tcp.src == {1, 2}`,
		`tcp.dst == {81, 444} && tcp.src == {3, 3}`,
		`!(tcp.dst == {80, 443}) && ip4`,
		`!(tcp.dst == {81, 444}) && ip4`,
		`ip4.dst == $as && tcp.dst == 1`,
		`ip4.dst == $one && tcp.dst == 2`,
		`ip4.dst == $none && tcp.dst == 3`,
		`outport == @pg && ip4`,
		`1`, `0`,
		`ip4 && ip4.mcast`,
	}, MapSets{
		AddressSets: map[string][]string{"as": {"10.0.0.1", "10.0.0.2"}, "one": {"10.9.9.9"}},
		PortGroups:  map[string][]string{"pg": {"p1"}},
	})
}

// TestNormalizerCorpus compiles every match of the 23.03 corpus both
// ways, twice over, so that each shape meets its other instances.
func TestNormalizerCorpus(t *testing.T) {
	var matches []string
	for _, f := range readCorpus(t) {
		matches = append(matches, f.match)
	}
	n := NewNormalizer(Symbols)
	checkNormalizer(t, n, append(matches, matches...), corpusSets)
}

// TestNormalizerCompileIn compiles the corpus twice over into one
// TermBuf, reset after each match as the controller resets it after
// each lflow, and wants what Compile gives; some results must have
// come from the buffer.
func TestNormalizerCompileIn(t *testing.T) {
	var matches []string
	for _, f := range readCorpus(t) {
		matches = append(matches, f.match)
	}
	n := NewNormalizer(Symbols)
	var buf TermBuf
	lent := 0
	for _, m := range append(matches, matches...) {
		want, werr := Compile(m, Symbols, corpusSets)
		got, inBuf, gerr := n.CompileIn(m, corpusSets, &buf)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%q: error %v, want %v", m, gerr, werr)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", m, got, want)
		}
		if inBuf {
			lent++
		}
		buf.Reset()
	}
	if lent == 0 {
		t.Error("no result came from the buffer")
	}
}
