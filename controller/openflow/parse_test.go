package openflow

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseFlow parses every add-flow golden flow (but learn) and checks
// that it encodes to what ofp-print shows for ovs-ofctl's own encoding.
func TestParseFlow(t *testing.T) {
	for _, tc := range goldenCommands {
		if tc.cmd != "add-flow" || strings.Contains(tc.arg, "learn(") {
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
	} {
		if _, err := ParseFlow(s); err == nil {
			t.Errorf("ParseFlow(%q) succeeded", s)
		}
	}
}
