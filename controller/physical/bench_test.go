package physical

import (
	"fmt"
	"testing"
)

// bigInput is a chassis with 50 switches of 40 ports each: 10 local VIFs
// with port security, 30 on 10 other chassis, and a flood group.
func bigInput() Input {
	in := Input{Chassis: "hv0"}
	for c := 1; c <= 10; c++ {
		in.Tunnels = append(in.Tunnels, Tunnel{Chassis: fmt.Sprintf("hv%d", c), Type: Geneve, OFPort: uint32(c)})
	}
	of := uint32(100)
	for dp := uint32(1); dp <= 50; dp++ {
		in.Datapaths = append(in.Datapaths, Datapath{Key: dp, DNATZone: uint16(dp), SNATZone: uint16(dp + 100)})
		mc := MulticastGroup{UUID: fmt.Sprintf("%08x-mc", dp), Datapath: dp, Key: 0x8000}
		for k := uint32(1); k <= 40; k++ {
			p := Port{UUID: fmt.Sprintf("%08x-%04x", dp, k), Name: fmt.Sprintf("p%d-%d", dp, k), Datapath: dp, Key: k}
			if k <= 10 {
				of++
				p.Chassis, p.OFPort, p.Zone = "hv0", of, uint16(of)
				p.PortSecurity = []string{fmt.Sprintf("00:00:00:00:%02x:%02x 10.%d.0.%d", dp, k, dp, k)}
			} else {
				p.Chassis = fmt.Sprintf("hv%d", 1+k%10)
			}
			in.Ports = append(in.Ports, p)
			mc.Members = append(mc.Members, p.Name)
		}
		in.MulticastGroups = append(in.MulticastGroups, mc)
	}
	return in
}

func BenchmarkFlows(b *testing.B) {
	in := bigInput()
	n := 0
	for b.Loop() {
		flows, err := Flows(in)
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		for _, fs := range flows {
			n += len(fs)
		}
	}
	b.ReportMetric(float64(n), "flows")
}

// BenchmarkOneChange is what a change of one port costs: a new Builder,
// Changes, and the owners it names.
func BenchmarkOneChange(b *testing.B) {
	in := bigInput()
	old, err := NewBuilder(in)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		in.Ports[0].Zone++
		nb, err := NewBuilder(in)
		if err != nil {
			b.Fatal(err)
		}
		set, _ := nb.Changes(old)
		for _, o := range set {
			nb.Owner(o)
		}
		old = nb
	}
}
