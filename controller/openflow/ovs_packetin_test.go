package openflow

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nextPacketIn2 waits for the next packet-in2 on c, failing on anything
// else.
func nextPacketIn2(ctx context.Context, t *testing.T, c *Conn) *PacketIn2 {
	t.Helper()
	select {
	case m := <-c.Async():
		p, ok := m.(*PacketIn2)
		if !ok {
			t.Fatalf("expected a packet-in2, got %#v", m)
		}
		return p
	case <-ctx.Done():
		t.Fatal("no packet-in2")
	}
	return nil
}

// TestOVSPauseResume sends a packet through controller(pause), resumes it,
// and sees the rest of the pipeline run: OVN's pinctrl round trip.
func TestOVSPauseResume(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A service connection such as br0.mgmt gets packet-ins only after it
	// sets a miss_send_len, as ovn-controller does.
	for _, m := range []Message{&SetPacketInFormat{Format: PacketInNXT2}, &SetConfig{SwitchConfig{MissSendLen: 0xffff}}} {
		if _, err := c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	pause := NewFlowMod(FlowAdd, 1, 10)
	pause.Instructions.Apply = []Action{
		&Controller{MaxLen: 0xffff, Reason: ReasonAction, Userdata: []byte{1, 2}, Pause: true},
		&SetField{OXM: Reg(0).Exact(5)},
		&Controller{MaxLen: 0xffff, Reason: ReasonAction, Userdata: []byte{3}},
	}
	if err := c.Bundle(ctx, 1, []Message{pause}); err != nil {
		t.Fatal(err)
	}
	out := &PacketOut{BufferID: NoBuffer, Match: Match{F("in_port_oxm").Exact(PortController), Reg(1).Exact(7)},
		Actions: []Action{ResubmitTable(1)}, Data: arpPacket}
	if _, err := c.Send(ctx, out); err != nil {
		t.Fatal(err)
	}
	p := nextPacketIn2(ctx, t, c)
	if d := cmp.Diff([]byte{1, 2}, p.Userdata); d != "" || len(p.Continuation) == 0 {
		t.Fatalf("first packet-in: userdata diff %s, table %d, continuation %d bytes", d, p.TableID, len(p.Continuation))
	}
	if d := cmp.Diff(arpPacket, p.Packet); d != "" {
		t.Errorf("packet (-sent +got):\n%s", d)
	}
	if got, want := p.Metadata.String(), "reg1=0x7,in_port=CONTROLLER"; got != want {
		t.Errorf("metadata = %s, want %s", got, want)
	}
	if _, err := c.Send(ctx, ResumeFrom(p)); err != nil {
		t.Fatal(err)
	}
	p = nextPacketIn2(ctx, t, c)
	if d := cmp.Diff([]byte{3}, p.Userdata); d != "" || len(p.Continuation) != 0 {
		t.Fatalf("second packet-in: userdata diff %s, continuation %d bytes", d, len(p.Continuation))
	}
	if got, want := p.Metadata.String(), "reg0=0x5,reg1=0x7,in_port=CONTROLLER"; got != want {
		t.Errorf("metadata after resume = %s, want %s", got, want)
	}
	if v, _, ok := p.Metadata.Reg(0); !ok || v != 5 {
		t.Errorf("Reg(0) = %d, %v; want 5", v, ok)
	}
	if o, ok := p.Metadata.Get("in_port_oxm"); !ok || o.Uint() != PortController {
		t.Errorf("in_port = %v, %v", o, ok)
	}
}

// TestOVSPortStatus adds a port and sees its port status on Async.
func TestOVSPortStatus(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Send(ctx, &SetConfig{SwitchConfig{MissSendLen: 0xffff}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	o.vsctl(t, "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=internal", "ofport_request=9")
	for {
		select {
		case m := <-c.Async():
			if ps, ok := m.(*PortStatus); ok && ps.Reason == PortAdd {
				if ps.Port.Name != "p1" || ps.Port.No != 9 {
					t.Fatalf("port status for %+v", ps.Port)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no port status")
		}
	}
}
