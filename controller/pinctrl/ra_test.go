package pinctrl

import (
	"net/netip"
	"testing"
)

// rs is a router solicitation from src to ff02::2.
func rs(src string) []byte {
	hdr := []byte{0x33, 0x33, 0, 0, 0, 2, 0x0a, 0, 0, 0, 6, 0x10}
	body := []byte{133, 0, 0, 0, 0, 0, 0, 0}
	return icmp6Frame(hdr, hdr[6:12], hdr[:6], netip.MustParseAddr(src).AsSlice(),
		netip.MustParseAddr("ff02::2").AsSlice(), body)
}

// TestPutNDRAOpts: a router solicitation resumes as the advertisement
// the action carries, with a valid checksum and the result bit set.
func TestPutNDRAOpts(t *testing.T) {
	ud := userdata(t, `reg0[5] = put_nd_ra_opts(addr_mode = "slaac", slla = 0a:00:00:00:05:01, `+
		`prefix = fd05::/64, mtu = 1400); next;`)
	for _, c := range []struct{ src, wantSrc string }{{"fe80::800:ff:fe00:610", "fe80::800:ff:fe00:610"}, {"::", "ff02::1"}} {
		r := Handle(packetIn(ud, rs(c.src)))
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		res := onlyResume(t, r)
		if v, _, _ := res.Metadata.Reg(0); v&0x20 == 0 {
			t.Errorf("reg0 = %#x, want bit 5 set", v)
		}
		p := checksumOK(t, res.Packet)
		if p.l4[0] != 134 || p.l4[4] != 255 || len(p.l4) != 16+8+8+32 {
			t.Errorf("advertisement % x (%d bytes)", p.l4[:8], len(p.l4))
		}
		if got := netip.AddrFrom16([16]byte(p.src)).String(); got != c.wantSrc {
			t.Errorf("ip6.src %s, want %s", got, c.wantSrc)
		}
		// The prefix option: type 3, length 4, /64, on-link and
		// autonomous, then fd05::.
		var pfx []byte
		for o := p.l4[16:]; len(o) >= 8 && o[1] > 0 && int(o[1])*8 <= len(o); o = o[int(o[1])*8:] {
			if o[0] == 3 {
				pfx = o[:32]
			}
		}
		if len(pfx) != 32 || pfx[0] != 3 || pfx[2] != 64 || pfx[3] != 0xc0 || netip.AddrFrom16([16]byte(pfx[16:])).String() != "fd05::" {
			t.Errorf("prefix option % x", pfx)
		}
	}
	r := Handle(packetIn(ud, ns(t)))
	if r.Err == nil {
		t.Error("a neighbor solicitation answered as a router solicitation")
	}
	if v, _, _ := onlyResume(t, r).Metadata.Reg(0); v&0x20 != 0 {
		t.Errorf("reg0 = %#x, want bit 5 clear", v)
	}
}
