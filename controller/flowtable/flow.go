// Package flowtable holds the controller's desired OpenFlow state: the
// Flow type every flow producer returns (the logical-flow compiler
// controller/lflowc, the physical flows of controller/physical), the
// desired table keyed by owner, and the installer that sends only the
// difference to the switch, in bundles.
package flowtable

import (
	"github.com/ovnd/ovnd/controller/openflow"
)

// Flow is one desired OpenFlow flow. Two flows with the same Table,
// Priority and Match are the same flow to the switch; their actions must
// agree or the table holds a conflict (the first owner wins, as in
// ovn-controller).
type Flow struct {
	Table    uint8
	Priority uint16
	Match    openflow.Match    // in prerequisite order (see openflow package doc)
	Actions  []openflow.Action // apply-actions; nil or empty drops
	Cookie   uint64            // ovn-controller uses the first 32 bits of the lflow UUID
}
