package lflowc

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestCorpus compiles every distinct (match, actions) pair ovn-northd
// 23.03 writes for lflow's corpus topology (../../lflow/testdata), in
// both pipelines, on a switch and on a router: each compiles, and
// nothing panics. The corpus has no lflow rows' tables, so each pair
// goes to a middle table.
func TestCorpus(t *testing.T) {
	f, err := os.Open("../../lflow/testdata/lflows-23.03.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv()
	env.routers[3] = true
	env.sets["as_web"] = []string{"10.0.0.11", "10.0.0.12"}
	env.sets["as_v6"] = []string{"fd00::11", "fd01::/64"}
	env.sets["svc_monitor_mac"] = []string{"12:34:56:78:9a:bc"}
	env.sets["_rtr_lb_3_ip4"] = []string{"172.16.0.100"}
	env.groups["1_pg_web"] = []string{"sw0-p1", "sw0-p2"}
	env.groups["3_pg_web"] = []string{"sw0-p1", "sw0-p2"}
	cc := NewCompiler()
	flows := 0
	for i, r := range recs {
		match, actions := unquoteCell(t, r[0]), unquoteCell(t, r[1])
		for _, pipeline := range []string{"ingress", "egress"} {
			lf := LogicalFlow{UUID: "00000000-0000-4000-8000-000000000001", Pipeline: pipeline, TableID: 10, Priority: 100,
				Match: match, Actions: actions}
			fs, _, err := cc.Compile(lf, []uint32{1, 3}, env)
			if err != nil {
				t.Errorf("line %d: %q / %q: %v", i+1, match, actions, err)
			}
			flows += len(fs)
		}
	}
	t.Logf("%d corpus lflows, compiled twice each into %d flows", len(recs), flows)
}

func unquoteCell(t *testing.T, s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("cell %s: %v", s, err)
	}
	return out
}

// FuzzCompile checks that no match or actions text makes Compile panic:
// bad input is an error.
func FuzzCompile(f *testing.F) {
	for _, s := range [][2]string{
		{"ip4 && tcp.dst == {22, 80}", "next;"},
		{`inport == "sw0-p1" && ip4.src == $as1`, "ct_commit { ct_mark.blocked = 1; }; next;"},
		{"outport == @pg1 && udp", `reject { outport <-> inport; next(pipeline=ingress,table=25); };`},
		{"nd_ns", "nd_na { nd.target = fd00::1; output; };"},
		{"1", `reg0[3] = put_dhcp_opts(offerip = 10.0.0.2, router = 10.0.0.1, classless_static_route = {30.0.0.0/24, 10.0.0.10});`},
		{"ip4", "ct_lb_mark(backends=10.0.0.1:80,10.0.0.2:80; hash_fields=\"ip_src\");"},
		{"tcp.dst >= 1000 && tcp.dst <= 1010", "reg8[16..31] = select(1=20, 2=80);"},
	} {
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, match, actions string, ingress bool) {
		lf := LogicalFlow{UUID: uuid, Pipeline: "egress", TableID: 3, Priority: 10, Match: match, Actions: actions}
		if ingress {
			lf.Pipeline = "ingress"
		}
		env := testEnv()
		env.routers[2] = true
		NewCompiler().Compile(lf, []uint32{1, 2}, env)
	})
}
