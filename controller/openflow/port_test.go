package openflow

import "testing"

func TestPortStatus(t *testing.T) {
	m := &PortStatus{Reason: PortAdd, Port: Port{No: 7, HWAddr: mac("00:00:00:00:00:01"), Name: "vif1", State: 1}}
	checkMessage(t, m, "OFPT_PORT_STATUS (OF1.5) (xid=0x1): ADD: 7(vif1): addr:00:00:00:00:00:01\n     config:     0\n     state:      LINK_DOWN\n     speed: 0 Mbps now, 0 Mbps max")
}
