package lflow

import "testing"

// The fuzzers check that no input makes the parsers or the normaliser
// panic, and that whatever parses formats to text that parses again.

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"ip4.src == {10.0.0.1, $as1} && tcp.dst >= 1000",
		"!(inport == @pg1) || reg0[0..7] != 0x10/0xf0",
		"1024 <= udp.dst <= 49151 && ip6.dst == fd00::/64",
		"is_chassis_resident(\"x\") && eth.src == 00:00:00:00:00:01/ff:ff:ff:00:00:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s, Symbols, testSets)
		if err != nil {
			return
		}
		text := FormatExpr(e)
		if _, err := ParseExpr(text, Symbols, testSets); err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, text, err)
		}
		if terms, err := Normalize(e, Symbols); err == nil {
			_, _ = Flows(terms, 256)
		}
	})
}

func FuzzParseActions(f *testing.F) {
	for _, s := range []string{
		"reg0[3] = put_dhcp_opts(offerip = 10.0.0.11, dns_server = {8.8.8.8}); next;",
		"ct_lb_mark(backends=10.0.0.1:80,[fd00::1]:80; hash_fields=\"ip_src\");",
		"arp { eth.dst = ff:ff:ff:ff:ff:ff; output; }; ip.ttl--; reg0 <-> reg1;",
		"log(verdict=allow, name=\"x\"); next(pipeline=egress, table=3);",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acts, err := ParseActions(s, Symbols)
		if err != nil {
			return
		}
		text := FormatActions(acts)
		again, err := ParseActions(text, Symbols)
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, text, err)
		}
		if FormatActions(again) != text {
			t.Fatalf("%q: format not stable: %q", s, text)
		}
	})
}
