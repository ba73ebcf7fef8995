package chassis

import (
	"fmt"
	"maps"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// The integration bridge's external_ids (a conntrack zone per port and
// two per local datapath) are digested without a sort once they are
// many: the digest still changes with any key or value Reconcile reads,
// in any position, and not with the keys it does not read or the order
// the map is built in.
func TestLargeMapDigest(t *testing.T) {
	for _, size := range []int{hashedMap / 2, hashedMap + 1, 1100} {
		ids := map[string]string{}
		for i := range size {
			ids[fmt.Sprintf("%s%04d-dp_dnat", ZoneKeyPrefix, i)] = fmt.Sprint(i + 1)
		}
		digestOf := func(m map[string]string) string {
			s, _ := ovsDigest(&vswitch.Bridge{UUID: "br", Name: "br-int", ExternalIDs: m})
			return s
		}
		base := digestOf(ids)
		rebuilt := map[string]string{}
		for k, v := range ids { // another insertion order
			rebuilt[k] = v
		}
		if digestOf(rebuilt) != base {
			t.Errorf("%d keys: the same map digests differently", size)
		}
		unreadOnly := maps.Clone(ids)
		unreadOnly[nbCfgKey], unreadOnly[nbCfgTSKey] = "7", "1795000000000"
		if digestOf(unreadOnly) != base {
			t.Errorf("%d keys: a key Reconcile does not read changed the digest", size)
		}
		for _, change := range []struct {
			what string
			edit func(m map[string]string)
		}{
			{"a value", func(m map[string]string) { m[ZoneKeyPrefix+"0003-dp_dnat"] = "9999" }},
			{"a key removed", func(m map[string]string) { delete(m, ZoneKeyPrefix+"0000-dp_dnat") }},
			{"a key added", func(m map[string]string) { m[ZoneKeyPrefix+"new"] = "5000" }},
			{"two values swapped", func(m map[string]string) {
				a, b := ZoneKeyPrefix+"0001-dp_dnat", ZoneKeyPrefix+"0002-dp_dnat"
				m[a], m[b] = m[b], m[a]
			}},
		} {
			m := maps.Clone(ids)
			change.edit(m)
			if digestOf(m) == base {
				t.Errorf("%d keys: %s left the digest as it was", size, change.what)
			}
		}
	}
}
