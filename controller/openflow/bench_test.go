package openflow

import "testing"

func benchFlow() *FlowMod {
	fm, err := ParseFlow("table=8,priority=50,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01 actions=load:0x1->NXM_NX_REG13[],ct(commit,zone=NXM_NX_REG13[0..15],exec(load:1->NXM_NX_CT_MARK[0])),resubmit(,9)")
	if err != nil {
		panic(err)
	}
	return fm
}

func BenchmarkMarshalFlowMod(b *testing.B) {
	fm := benchFlow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(1, fm); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalFlowMod(b *testing.B) {
	buf, _ := Marshal(1, benchFlow())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDumpString(b *testing.B) {
	fm := benchFlow()
	b.ReportAllocs()
	for b.Loop() {
		_ = fm.DumpString()
	}
}
