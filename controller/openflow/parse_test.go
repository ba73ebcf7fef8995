package openflow

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseFlow parses every add-flow golden flow and checks
// that it encodes to what ofp-print shows for ovs-ofctl's own encoding.
func TestParseFlow(t *testing.T) {
	for _, tc := range goldenCommands {
		if tc.cmd != "add-flow" {
			continue
		}
		t.Run(tc.arg, func(t *testing.T) {
			theirs := ofctlEncode(t, tc.cmd, tc.arg)
			fm, err := ParseFlow(tc.arg)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := Marshal(2, fm)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(ofpPrint(t, theirs[0]), ofpPrint(t, ours)); d != "" {
				t.Errorf("ofp-print (-ovs-ofctl's encoding +ours):\n%s", d)
			}
		})
	}
}

func TestParseFlowErrors(t *testing.T) {
	for _, s := range []string{
		"priority=1",
		"foo=1 actions=drop",
		"tcp,tp_dst=x actions=drop",
		"ip,tp_dst=80 actions=drop",
		"actions=bogus:1",
		"actions=move:NXM_NX_REG0[]",
		"actions=load:1->NOPE[]",
		"dl_src=00:00 actions=drop",
		"ct_state=+bogus actions=drop",
		"actions=load:0xffff->NXM_NX_REG0[0..3]",
		"actions=load:1->NXM_NX_REG0[30..40]",
	} {
		if _, err := ParseFlow(s); err == nil {
			t.Errorf("ParseFlow(%q) succeeded", s)
		}
	}
}

// FuzzParseFlow checks that no input makes the parser panic and that what
// parses encodes and renders.
func FuzzParseFlow(f *testing.F) {
	for _, tc := range goldenCommands {
		if tc.cmd == "add-flow" {
			f.Add(tc.arg)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := ParseFlow(s)
		if err != nil {
			return
		}
		_ = fm.String()
		Marshal(1, fm)
	})
}
