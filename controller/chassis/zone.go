package chassis

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// ZoneKeyPrefix starts the br-int external_ids keys that persist the
// conntrack zone assignments, "ct-zone-<name>" = "<zone>", as
// ovn-controller keeps them so that zones survive restarts.
const ZoneKeyPrefix = "ct-zone-"

// MaxZone is the highest conntrack zone; zone 0 is the default zone and
// never assigned.
const MaxZone = 65535

// ErrZonesExhausted is returned by AssignZones when more names want a
// zone than there are zones.
var ErrZonesExhausted = errors.New("conntrack zones exhausted")

// Zone names for a datapath's router zones, as ovn-controller names
// them: "<datapath uuid>_dnat" and "<datapath uuid>_snat".
func dnatZoneName(dpUUID string) string { return dpUUID + "_dnat" }
func snatZoneName(dpUUID string) string { return dpUUID + "_snat" }

// ZonesFromExternalIDs reads the persisted assignments out of br-int's
// external_ids. Keys whose value is not a zone number are ignored.
func ZonesFromExternalIDs(ids map[string]string) map[string]int {
	z := map[string]int{}
	for k, v := range ids {
		name, ok := strings.CutPrefix(k, ZoneKeyPrefix)
		if !ok || name == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxZone {
			continue
		}
		z[name] = n
	}
	return z
}

// AssignZones returns a zone for every name in want: a name keeps the zone
// it has in existing unless another kept name holds the same zone (a
// corrupted external_ids); new names get the lowest free zones in sorted
// name order. Names not in want lose their zone. It is pure and
// deterministic.
func AssignZones(existing map[string]int, want []string) (map[string]int, error) {
	// Of the names that share a zone in existing, the first in sorted
	// order keeps it; the others and the new names get the lowest free
	// zones in sorted order. Only those are sorted: nearly every name
	// keeps its zone, and there are over 1,000 in a large topology.
	holder := make(map[int]string, len(want)) // zone -> the name keeping it
	for _, n := range want {
		z, ok := existing[n]
		if !ok || z < 1 || z > MaxZone {
			continue
		}
		if h, taken := holder[z]; !taken || n < h {
			holder[z] = n
		}
	}
	out := make(map[string]int, len(want))
	for z, n := range holder {
		out[n] = z
	}
	var fresh []string
	for _, n := range want {
		if _, ok := out[n]; !ok {
			fresh = append(fresh, n)
		}
	}
	slices.Sort(fresh)
	fresh = slices.Compact(fresh)
	next := 1
	for _, n := range fresh {
		for next <= MaxZone {
			if _, used := holder[next]; !used {
				break
			}
			next++
		}
		if next > MaxZone {
			return nil, ErrZonesExhausted
		}
		out[n], holder[next] = next, n
	}
	return out, nil
}
