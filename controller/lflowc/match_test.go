package lflowc

import (
	"bytes"
	"testing"

	"github.com/ovnd/ovnd/controller/openflow"
)

func TestIsFullMask(t *testing.T) {
	for _, name := range []string{"metadata", "reg0", "eth_src", "tcp_flags", "ip_dscp", "vlan_vid", "xxreg0", "ct_state"} {
		f := openflow.F(name)
		n := f.Width
		full := fullMask(f, n)
		if !isFullMask(f, full) {
			t.Errorf("%s: full mask %x not full", name, full)
		}
		part := bytes.Clone(full)
		part[n-1] &^= 1
		if isFullMask(f, part) {
			t.Errorf("%s: mask %x taken as full", name, part)
		}
	}
}
