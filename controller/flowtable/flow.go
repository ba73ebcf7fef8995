// Package flowtable holds the controller's desired OpenFlow state: the
// Flow type every flow producer returns (the logical-flow compiler
// controller/lflowc, the physical flows of controller/physical), the
// desired table of flows, groups and meters keyed by owner (Desired), and
// the Installer that keeps br-int equal to it.
//
// The installer reads what the switch holds when it (re)connects (Sync)
// and from then on sends only the difference, as one atomic bundle per
// change (Install), returning once a barrier confirms the switch applied
// it. A controller that restarts therefore replaces nothing that is
// already right, and a change never leaves a moment of half-applied
// forwarding. Flows are compared by table, priority and MatchKey (a
// canonical form of the match, the same for the ways OVS echoes a match
// back) and by their actions as ovs-ofctl prints them.
//
//	d := flowtable.NewDesired(log)
//	d.Set(owner, flows) // per lflow UUID, physical owner key...
//	in := flowtable.NewInstaller(log)
//	err := in.Sync(ctx, conn) // after every (re)connection
//	st, err := in.Install(ctx, d) // after every change; then mark ports up
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
