package openflow_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ovnd/ovnd/controller/openflow"
)

// A flow as OVN's physical stage writes it, rendered as ovs-ofctl would.
func Example() {
	F, Reg := openflow.F, openflow.Reg
	fm := openflow.NewFlowMod(openflow.FlowAdd, 0, 100)
	fm.Match = openflow.Match{F("in_port_oxm").Exact(1)}
	fm.Instructions.Apply = []openflow.Action{
		&openflow.SetField{OXM: Reg(13).Masked(3, 0xffff)},
		&openflow.SetField{OXM: F("metadata").Exact(1)},
		&openflow.SetField{OXM: Reg(14).Exact(1)},
		openflow.ResubmitTable(8),
	}
	fmt.Println(fm)
	// Output:
	// ADD priority=100,in_port=1 actions=set_field:0x3/0xffff->reg13,set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)
}

// Connecting to br-int, installing flows atomically and reading them back.
func ExampleConn() {
	ctx := context.Background()
	c, err := openflow.Dial(ctx, "unix", "/var/run/openvswitch/br-int.mgmt", slog.Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fm := openflow.NewFlowMod(openflow.FlowAdd, 8, 50)
	fm.Match = openflow.Match{openflow.Reg(14).Exact(1), openflow.F("metadata").Exact(1)}
	fm.Instructions.Apply = []openflow.Action{openflow.ResubmitTable(9)}
	if err := c.Bundle(ctx, 1, []openflow.Message{fm}); err != nil {
		fmt.Println(err)
		return
	}
	flows, err := c.DumpFlows(ctx, openflow.NewFlowStatsRequest())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range flows {
		fmt.Println(f.NoStats())
	}
}
