package physical

import (
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// toEgress starts the logical egress pipeline with the logical registers
// zeroed.
func toEgress() acts {
	var a acts
	for r := range logicalRegistersToZero {
		a.set(openflow.Reg(r), 0)
	}
	return *a.resubmit(TableLogEgress)
}

// staticFlows are the default flows of the physical tables, which depend
// on nothing.
func staticFlows() []flowtable.Flow {
	return []flowtable.Flow{
		// Anything from an unknown port drops.
		flow(TablePhyToLog, 0, 0, nil, nil),
		// No large-packet checks are configured: straight on.
		flow(TableLargePktDetect, 0, 0, nil, *new(acts).resubmit(TableRemoteOutput)),
		flow(TableLargePktProcess, 10, 0, match(regFlags.Masked(flagAllowLoopback, flagAllowLoopback)),
			*new(acts).resubmit(TableLocalOutput)),
		flow(TableLargePktProcess, 0, 0, nil, *new(acts).resubmit(TableRemoteOutput)),
		// Traffic that must stay here, and traffic from a VTEP (ramp)
		// switch that may not loop back, skips the tunnels.
		flow(TableRemoteOutput, 150, 0, match(regFlags.Masked(flagLocalOnly, flagLocalOnly)),
			*new(acts).resubmit(TableLocalOutput)),
		flow(TableRemoteOutput, 150, 0, match(regFlags.Masked(flagRcvFromRAMP, flagRcvFromRAMP|flagAllowLoopback)),
			*new(acts).resubmit(TableLocalOutput)),
		flow(TableRemoteOutput, 0, 0, nil, *new(acts).resubmit(TableLocalOutput)),
		flow(TableLocalOutput, 0, 0, nil, nil),
		// Between the pipelines the logical registers start from zero.
		flow(TableCheckLoopback, 0, 0, nil, toEgress()),
		flow(TableSaveInport, 0, 0, nil, *new(acts).resubmit(TableLogToPhy)),
		flow(TableLogToPhy, 0, 0, nil, nil),
	}
}
