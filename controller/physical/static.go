package physical

import (
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// toEgress starts the logical egress pipeline with the logical registers
// zeroed.
func toEgress() acts {
	var a acts
	for r := range logicalRegistersToZero {
		a.set(openflow.Reg(r), 0)
	}
	return *a.resubmit(oftable.EgressBase)
}

// staticFlows are the default flows of the physical tables, which depend
// on nothing.
func staticFlows() []flowtable.Flow {
	return []flowtable.Flow{
		// Anything from an unknown port drops.
		flow(oftable.TablePhysToLog, 0, 0, nil, nil),
		// No large-packet checks are configured: straight on.
		flow(oftable.TableOutputLarge, 0, 0, nil, *new(acts).resubmit(oftable.TableRemoteOutput)),
		flow(oftable.TableOutputLargeProc, 10, 0, match(regFlags.Masked(flagAllowLoopback, flagAllowLoopback)),
			*new(acts).resubmit(oftable.TableLocalOutput)),
		flow(oftable.TableOutputLargeProc, 0, 0, nil, *new(acts).resubmit(oftable.TableRemoteOutput)),
		// Traffic that must stay here, and traffic from a VTEP (ramp)
		// switch that may not loop back, skips the tunnels.
		flow(oftable.TableRemoteOutput, 150, 0, match(regFlags.Masked(flagLocalOnly, flagLocalOnly)),
			*new(acts).resubmit(oftable.TableLocalOutput)),
		flow(oftable.TableRemoteOutput, 150, 0, match(regFlags.Masked(flagRcvFromRAMP, flagRcvFromRAMP|flagAllowLoopback)),
			*new(acts).resubmit(oftable.TableLocalOutput)),
		flow(oftable.TableRemoteOutput, 0, 0, nil, *new(acts).resubmit(oftable.TableLocalOutput)),
		flow(oftable.TableLocalOutput, 0, 0, nil, nil),
		// Between the pipelines the logical registers start from zero.
		flow(oftable.TableCheckLoopback, 0, 0, nil, toEgress()),
		flow(oftable.TableSaveInport, 0, 0, nil, *new(acts).resubmit(oftable.TableLogToPhys)),
		flow(oftable.TableLogToPhys, 0, 0, nil, nil),
	}
}
