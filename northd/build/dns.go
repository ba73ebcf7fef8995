package build

import "slices"

// DNS is one SB DNS row: an NB DNS's records on the switches that use it.
type DNS struct {
	NBUUID    string
	Datapaths []int
	Records   map[string]string
}

// dnsRows maps every NB DNS referenced by a switch to its SB row.
func dnsRows(nb *NB, sws []*lswitch) []DNS {
	byNB := map[string]*DNS{}
	var order []string
	for _, sw := range sws {
		for _, u := range sw.nb.DNSRecords {
			d, ok := nb.DNS[u]
			if !ok {
				continue
			}
			row := byNB[u]
			if row == nil {
				row = &DNS{NBUUID: u, Records: copyMap(d.Records)}
				byNB[u] = row
				order = append(order, u)
			}
			row.Datapaths = append(row.Datapaths, sw.key)
		}
	}
	slices.Sort(order)
	var out []DNS
	for _, u := range order {
		out = append(out, *byNB[u])
	}
	return out
}

// hasDNS reports whether the switch has DNS records to answer from.
func (sw *lswitch) hasDNS(nb *NB) bool {
	return slices.ContainsFunc(sw.nb.DNSRecords, func(u string) bool {
		d, ok := nb.DNS[u]
		return ok && len(d.Records) > 0
	})
}

// dnsFlows answers DNS queries from the switch's records; replies that
// ovn-controller could not answer pass on. The two response flows share a
// match, as ovn-northd 23.03 writes them.
func (sw *lswitch) dnsFlows(fs *flowSet, nb *NB, stateful bool) {
	if !sw.hasDNS(nb) {
		return
	}
	fs.add(sw.key, LSInDNSLookup, 100, "udp.dst == 53", "reg0[4] = dns_lookup(); next;")
	for _, ip := range []string{"ip4", "ip6"} {
		fs.add(sw.key, LSInDNSResponse, 100, "udp.dst == 53 && reg0[4]",
			"eth.dst <-> eth.src; "+ip+".src <-> "+ip+".dst; udp.dst = udp.src; udp.src = 53; outport = inport; flags.loopback = 1; output;")
	}
	reply := "next;"
	if stateful {
		reply = "ct_commit; next;"
	}
	fs.add(sw.key, LSOutACL, 34000, "udp.src == 53", reply)
}
