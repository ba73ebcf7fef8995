package openflow

import (
	"bytes"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// manField is what `man ovs-fields` says about one field.
type manField struct {
	oxm, nxm         string
	oxmCode, nxmCode int
}

// readManFields parses the Name/OXM/NXM lines of `man ovs-fields`.
func readManFields(t *testing.T) map[string]manField {
	t.Helper()
	out, err := exec.Command("sh", "-c", "MANWIDTH=200 man ovs-fields 2>/dev/null").Output()
	if err != nil || len(out) == 0 {
		t.Skip("man ovs-fields not available")
	}
	line := regexp.MustCompile(`^\s+(Name|OXM|NXM):\s+(\S+)(?:\s+\((\d+)\))?`)
	fields := map[string]manField{}
	var name string
	for _, l := range strings.Split(string(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		code, _ := strconv.Atoi(m[3])
		f := fields[name]
		switch m[1] {
		case "Name":
			name = m[2]
			continue
		case "OXM":
			f.oxm, f.oxmCode = m[2], code
		case "NXM":
			f.nxm, f.nxmCode = m[2], code
		}
		fields[name] = f
	}
	return fields
}

// TestFieldTableMatchesManPage checks the field table's codes and names
// against the ovs-fields manual.
func TestFieldTableMatchesManPage(t *testing.T) {
	man := readManFields(t)
	checked := 0
	for i := range fieldDefs {
		f := &fieldDefs[i]
		m, ok := man[f.Name]
		if !ok {
			continue // the manual documents reg0, xreg0... once
		}
		checked++
		switch {
		case f.Class == ClassOpenFlow || f.Class == ClassPacketReg:
			// OpenFlow 1.5 made ONF's tcp_flags and actset_output basic
			// OXM fields with the same numbers; the manual lists the ONF
			// form first.
			basic := strings.HasPrefix(m.oxm, "OXM_OF_") || strings.HasPrefix(m.oxm, "ONFOXM_ET_")
			if !basic || m.oxmCode != int(f.Code) {
				t.Errorf("%s: table has OXM code %d, manual says %s (%d)", f.Name, f.Code, m.oxm, m.oxmCode)
			}
		case f.Class == ClassNXM0 || f.Class == ClassNXM1:
			prefix := map[uint16]string{ClassNXM0: "NXM_OF_", ClassNXM1: "NXM_NX_"}[f.Class]
			if !strings.HasPrefix(m.nxm, prefix) || m.nxmCode != int(f.Code) {
				t.Errorf("%s: table has class %d code %d, manual says %s (%d)", f.Name, f.Class, f.Code, m.nxm, m.nxmCode)
			}
		}
		wantName := m.nxm
		if wantName == "none" || wantName == "" {
			wantName = m.oxm
		}
		if f.NXMName != wantName {
			t.Errorf("%s: subfield name %s, manual's %s", f.Name, f.NXMName, wantName)
		}
		if a, ok := nxmAliases[f.Name]; ok {
			prefix := map[uint16]string{ClassNXM0: "NXM_OF_", ClassNXM1: "NXM_NX_"}[a[0]]
			if !strings.HasPrefix(m.nxm, prefix) || m.nxmCode != int(a[1]) {
				t.Errorf("%s: NXM alias %v, manual says %s (%d)", f.Name, a, m.nxm, m.nxmCode)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d fields found in the manual", checked)
	}
}

// TestDecodedMatchValuesIndependent: a decoded match's values and masks
// share one array, yet appending to one leaves the others as they were.
func TestDecodedMatchValuesIndependent(t *testing.T) {
	m := Match{Reg(14).Exact(1), F("metadata").Masked(2, 0xff), F("dl_src").Exact(3)}
	b, err := m.append(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := decodeMatch(b)
	if err != nil || len(got) != len(m) {
		t.Fatalf("decoded %v, %v", got, err)
	}
	for _, o := range got {
		_ = append(o.Value, 0xee, 0xee, 0xee, 0xee)
		_ = append(o.Mask, 0xee, 0xee, 0xee, 0xee)
	}
	for i := range m {
		if got[i].Field != m[i].Field || !bytes.Equal(got[i].Value, m[i].Value) || !bytes.Equal(got[i].Mask, m[i].Mask) {
			t.Errorf("field %d = %s %x/%x, want %s %x/%x", i, got[i].Field.Name, got[i].Value, got[i].Mask,
				m[i].Field.Name, m[i].Value, m[i].Mask)
		}
	}
}
