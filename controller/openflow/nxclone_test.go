package openflow

import "testing"

func TestCloneRoundTrip(t *testing.T) {
	fm := NewFlowMod(FlowAdd, 65, 100)
	fm.Instructions.Apply = []Action{&Clone{Actions: []Action{&CTClear{}, &SetField{OXM: Reg(11).Exact(0)},
		ResubmitTable(8)}}, &Output{Port: 3}}
	b, err := Marshal(7, fm)
	if err != nil {
		t.Fatal(err)
	}
	_, m, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	const want = "clone(ct_clear,set_field:0->reg11,resubmit(,8)),output:3"
	if got := m.(*FlowMod).Instructions.String(); got != want {
		t.Errorf("decoded %q, want %q", got, want)
	}
}
