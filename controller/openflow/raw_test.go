package openflow

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A flow mod built from pre-encoded match and instructions is the same
// message, byte for byte, as one built from Match and Instructions, and
// renders the same.
func TestFlowModRaw(t *testing.T) {
	for _, s := range []string{
		"cookie=0x5,table=44,priority=2001,ct_state=-new+est-rel+trk,ct_mark=0/0x1,reg14=0x3,metadata=0x1a,ip actions=ct(commit,zone=NXM_NX_REG13[0..15],exec(set_field:0/0x1->ct_mark)),resubmit(,45)",
		"table=0,priority=100,in_port=3 actions=set_field:0x5->reg13,set_field:0x1->metadata,resubmit(,8)",
		"table=65,priority=100,reg15=0x1,metadata=0x1 actions=drop",
		"priority=0 actions=conjunction(3,1/2),conjunction(7,2/2)",
	} {
		fm, err := ParseFlow(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Marshal(1, fm)
		if err != nil {
			t.Fatal(err)
		}
		raw := NewFlowMod(fm.Command, fm.Table, fm.Priority)
		raw.Cookie = fm.Cookie
		raw.RawMatch = []byte{}
		for _, o := range fm.Match {
			if raw.RawMatch, err = o.AppendBinary(raw.RawMatch); err != nil {
				t.Fatal(err)
			}
		}
		if raw.RawInstructions, err = fm.Instructions.AppendBinary(nil); err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(1, raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\nraw  %x\nwant %x", s, got, want)
		}
		if raw.String() != fm.String() || raw.DumpString() != fm.DumpString() {
			t.Errorf("%s: raw renders as %q / %q, want %q / %q", s, raw.String(), raw.DumpString(), fm.String(), fm.DumpString())
		}
		in, err := DecodeInstructions(raw.RawInstructions)
		if err != nil || in.String() != fm.Instructions.String() {
			t.Errorf("%s: instructions decode as %q, %v", s, in, err)
		}
	}
}

func TestDecodeInstructionsBad(t *testing.T) {
	for _, b := range [][]byte{{0, 4, 0}, {0, 4, 0, 4, 0, 0, 0, 0}, {0, 4, 0, 16, 0, 0, 0, 0}} {
		if _, err := DecodeInstructions(b); err == nil {
			t.Errorf("%x decodes", b)
		}
	}
}

func TestFields(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.Name] || FieldByName(f.Name) != f {
			t.Errorf("field %s: duplicate or not the table's", f.Name)
		}
		seen[f.Name] = true
	}
	for _, n := range []string{"in_port", "metadata", "reg15", "xxreg3", "tun_metadata63", "ct_label"} {
		if !seen[n] {
			t.Errorf("Fields lacks %s", n)
		}
	}
}

// BundleFunc builds each message as it sends it; a rejection names the
// message built again for its index, and a message that cannot be built
// fails the bundle before the commit.
func TestConnBundleFunc(t *testing.T) {
	c, _ := newTestConn(t, ovsLike)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	built := 0
	msg := func(i int) (Message, error) {
		built++
		return NewFlowMod(FlowAdd, 0, uint16(1+665*(i%2))), nil // priority 666 is refused
	}
	err := c.BundleFunc(ctx, 1, 3, msg)
	var be *BundleMessageError
	if !errors.As(err, &be) || be.Index != 1 || be.Message.(*FlowMod).Priority != 666 {
		t.Fatalf("bundle with a bad flow: %v, want message 1 rejected", err)
	}
	if built != 4 {
		t.Errorf("built %d messages, want 3 and the rejected one again", built)
	}
	if err := c.BundleFunc(ctx, 2, 2, func(i int) (Message, error) {
		if i == 1 {
			return nil, errors.New("no such flow")
		}
		return NewFlowMod(FlowAdd, 0, 1), nil
	}); err == nil || !strings.Contains(err.Error(), "no such flow") {
		t.Fatalf("bundle with a message that cannot be built: %v", err)
	}
}
