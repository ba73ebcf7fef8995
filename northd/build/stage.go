package build

// Pipeline is a logical pipeline direction as Logical_Flow.pipeline spells it.
type Pipeline string

const (
	Ingress Pipeline = "ingress"
	Egress  Pipeline = "egress"
)

// rank orders pipelines as lflow-list does: ingress first.
func (p Pipeline) rank() int {
	if p == Ingress {
		return 0
	}
	return 1
}

// Stage is one table of the logical switch pipeline.
type Stage struct {
	Pipeline Pipeline
	Table    int
	Name     string
}

// The logical switch pipeline of OVN 23.03, as `man ovn-northd` lists it
// and a real ovn-northd numbers it. This is the one place stage names and
// table numbers live.
var (
	LSInCheckPortSec = Stage{Ingress, 0, "ls_in_check_port_sec"}
	LSInApplyPortSec = Stage{Ingress, 1, "ls_in_apply_port_sec"}
	LSInLookupFDB    = Stage{Ingress, 2, "ls_in_lookup_fdb"}
	LSInPutFDB       = Stage{Ingress, 3, "ls_in_put_fdb"}
	LSInPreACL       = Stage{Ingress, 4, "ls_in_pre_acl"}
	LSInPreLB        = Stage{Ingress, 5, "ls_in_pre_lb"}
	LSInPreStateful  = Stage{Ingress, 6, "ls_in_pre_stateful"}
	LSInACLHint      = Stage{Ingress, 7, "ls_in_acl_hint"}
	LSInACL          = Stage{Ingress, 8, "ls_in_acl"}
	LSInQoSMark      = Stage{Ingress, 9, "ls_in_qos_mark"}
	LSInQoSMeter     = Stage{Ingress, 10, "ls_in_qos_meter"}
	LSInLBAffCheck   = Stage{Ingress, 11, "ls_in_lb_aff_check"}
	LSInLB           = Stage{Ingress, 12, "ls_in_lb"}
	LSInLBAffLearn   = Stage{Ingress, 13, "ls_in_lb_aff_learn"}
	LSInPreHairpin   = Stage{Ingress, 14, "ls_in_pre_hairpin"}
	LSInNATHairpin   = Stage{Ingress, 15, "ls_in_nat_hairpin"}
	LSInHairpin      = Stage{Ingress, 16, "ls_in_hairpin"}
	LSInACLAfterLB   = Stage{Ingress, 17, "ls_in_acl_after_lb"}
	LSInStateful     = Stage{Ingress, 18, "ls_in_stateful"}
	LSInARPRsp       = Stage{Ingress, 19, "ls_in_arp_rsp"}
	LSInDHCPOptions  = Stage{Ingress, 20, "ls_in_dhcp_options"}
	LSInDHCPResponse = Stage{Ingress, 21, "ls_in_dhcp_response"}
	LSInDNSLookup    = Stage{Ingress, 22, "ls_in_dns_lookup"}
	LSInDNSResponse  = Stage{Ingress, 23, "ls_in_dns_response"}
	LSInExternalPort = Stage{Ingress, 24, "ls_in_external_port"}
	LSInL2Lkup       = Stage{Ingress, 25, "ls_in_l2_lkup"}
	LSInL2Unknown    = Stage{Ingress, 26, "ls_in_l2_unknown"}

	LSOutPreACL       = Stage{Egress, 0, "ls_out_pre_acl"}
	LSOutPreLB        = Stage{Egress, 1, "ls_out_pre_lb"}
	LSOutPreStateful  = Stage{Egress, 2, "ls_out_pre_stateful"}
	LSOutACLHint      = Stage{Egress, 3, "ls_out_acl_hint"}
	LSOutACL          = Stage{Egress, 4, "ls_out_acl"}
	LSOutQoSMark      = Stage{Egress, 5, "ls_out_qos_mark"}
	LSOutQoSMeter     = Stage{Egress, 6, "ls_out_qos_meter"}
	LSOutStateful     = Stage{Egress, 7, "ls_out_stateful"}
	LSOutCheckPortSec = Stage{Egress, 8, "ls_out_check_port_sec"}
	LSOutApplyPortSec = Stage{Egress, 9, "ls_out_apply_port_sec"}
)

// SwitchStages is every logical switch stage in pipeline order.
var SwitchStages = []Stage{
	LSInCheckPortSec, LSInApplyPortSec, LSInLookupFDB, LSInPutFDB, LSInPreACL,
	LSInPreLB, LSInPreStateful, LSInACLHint, LSInACL, LSInQoSMark, LSInQoSMeter,
	LSInLBAffCheck, LSInLB, LSInLBAffLearn, LSInPreHairpin, LSInNATHairpin,
	LSInHairpin, LSInACLAfterLB, LSInStateful, LSInARPRsp, LSInDHCPOptions,
	LSInDHCPResponse, LSInDNSLookup, LSInDNSResponse, LSInExternalPort,
	LSInL2Lkup, LSInL2Unknown,
	LSOutPreACL, LSOutPreLB, LSOutPreStateful, LSOutACLHint, LSOutACL,
	LSOutQoSMark, LSOutQoSMeter, LSOutStateful, LSOutCheckPortSec,
	LSOutApplyPortSec,
}

// stageID numbers the stages of SwitchStages from 1, in order; 0 is any
// other Stage value (none of the flow builders makes one: every stage
// they use is declared above and listed in SwitchStages, which
// TestStageIDs checks).
type stageID uint8

// stageByID is SwitchStages by stageID, and stageAt their IDs by
// pipeline (ingress, egress) and table.
var (
	stageByID = append([]Stage{{}}, SwitchStages...)
	stageAt   = func() (at [2][64]stageID) {
		for i, st := range SwitchStages {
			at[st.Pipeline.rank()][st.Table] = stageID(i + 1)
		}
		return at
	}()
)

// idOf is st's stageID.
func idOf(st Stage) stageID {
	if st.Table >= 0 && st.Table < len(stageAt[0]) {
		if id := stageAt[st.Pipeline.rank()][st.Table]; id != 0 && stageByID[id] == st {
			return id
		}
	}
	return 0
}

// stage is the Stage numbered id.
func (id stageID) stage() Stage { return stageByID[id] }
