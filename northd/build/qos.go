package build

import (
	"fmt"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// qosFlows adds the switch's QoS rules: DSCP marking in the qos_mark
// stage and policing in the qos_meter stage of the rule's direction, at
// the rule's own priority.
func (sw *lswitch) qosFlows(fs *flowSet, nb *NB) {
	for _, u := range sw.nb.QOSRules {
		q, ok := nb.QoS[u]
		if !ok {
			continue
		}
		mark, meter := LSOutQoSMark, LSOutQoSMeter
		if q.Direction == nbdb.QoSDirectionFromLport {
			mark, meter = LSInQoSMark, LSInQoSMeter
		}
		if dscp, ok := q.Action["dscp"]; ok {
			fs.add(sw.key, mark, q.Priority, q.Match, fmt.Sprintf("ip.dscp = %d; next;", dscp))
		}
		if rate, ok := q.Bandwidth["rate"]; ok {
			act := fmt.Sprintf("set_meter(%d); next;", rate)
			if burst, ok := q.Bandwidth["burst"]; ok {
				act = fmt.Sprintf("set_meter(%d, %d); next;", rate, burst)
			}
			fs.add(sw.key, meter, q.Priority, q.Match, act)
		}
	}
}
