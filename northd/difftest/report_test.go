package difftest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarkdown(t *testing.T) {
	clean := &Result{Name: "a", Diffs: []StageDiff{{Stage: "ls_in_acl", Identical: 3}}, RealFlowRows: 3, OurFlowRows: 3}
	dirty := &Result{Name: "routers/b", Diffs: []StageDiff{
		{Stage: "ls_in_acl", Identical: 2, Missing: []string{"sw: m1"}},
		{Stage: "lr_in_admission", Extra: []string{"lr: e1", "lr: e0"}},
	}, Tables: []TableDiff{{"Datapath_Binding (external_ids)", "  -x\n"}}, RealFlowRows: 3, OurFlowRows: 2}
	md := Markdown("# title\n", []*Result{clean, dirty})
	for _, want := range []string{
		"| [a](#a) | identical | 3 | 3 | 0 | 0 | 3 / 3 | identical |",
		"| [routers/b](#routersb) | **differs** | 3 | 2 | 1 | 2 | 3 / 2 | Datapath_Binding (external_ids) |",
		"## routers/b\n",
		"| lr_in_admission | 0 | 0 | 2 |",
		"```\n- sw: m1\n+ lr: e0\n+ lr: e1\n```",
		"Datapath_Binding (external_ids) (-ovn-northd +ovnd):\n\n```\n  -x\n```",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestRowDiff(t *testing.T) {
	if d := rowDiff([]string{"a", "b", "b"}, []string{"b", "a", "b"}); d != "" {
		t.Errorf("same rows: %q", d)
	}
	if d, want := rowDiff([]string{"a", "b", "b", "c"}, []string{"b", "d", "a"}), "- b\n- c\n+ d\n"; d != want {
		t.Errorf("rowDiff = %q, want %q", d, want)
	}
	var many []string
	for i := range maxListed + 5 {
		many = append(many, fmt.Sprintf("r%03d", i))
	}
	if d := rowDiff(many, nil); !strings.HasSuffix(d, "- ... and 5 more\n") || strings.Count(d, "\n") != maxListed+1 {
		t.Errorf("long diff not capped:\n%s", d)
	}
}

func TestBenchScript(t *testing.T) {
	cmds := BenchScript(2, 3)
	if len(cmds) != 1+1+3 {
		t.Fatalf("%d commands, want lr-add and pg-add, one for both switches, 3 ACLs", len(cmds))
	}
	if n := len(BenchScript(benchBatch+1, 1)); n != 1+2+3 {
		t.Errorf("%d switches in %d commands, want 2", benchBatch+1, n-4)
	}
	sw := strings.Join(cmds[1], " ")
	for _, want := range []string{"ls-add ls000 -- --id=@p0_0 create Logical_Switch_Port name=ls000-p00", "-- ls-add ls001",
		`--id=@p1_2 create Logical_Switch_Port name=ls001-p02 addresses="0a:00:00:01:00:03 10.0.1.4"`,
		"add Logical_Switch ls001 ports @p1_2 -- add Port_Group pg_all ports @p1_2",
		"lrp-add lr0 lr0-ls001 0a:00:00:01:00:00 10.0.1.1/24", "lsp-set-options ls001-lr0 router-port=lr0-ls001"} {
		if !strings.Contains(sw, want) {
			t.Errorf("switch command lacks %q: %s", want, sw)
		}
	}
	for _, c := range []struct {
		in   string
		s, p int
		ok   bool
	}{{"bench:500x20", 500, 20, true}, {"bench:5x", 0, 0, false}, {"bench:0x3", 0, 0, false}, {"x.txt", 0, 0, false}} {
		if s, p, ok := ParseBench(c.in); s != c.s || p != c.p || ok != c.ok {
			t.Errorf("ParseBench(%q) = %d, %d, %v", c.in, s, p, ok)
		}
	}
}

// TestReportCoversScenarios checks that the committed REPORT.md has a
// section for every scenario script (make difftest-report rewrites it).
func TestReportCoversScenarios(t *testing.T) {
	md, err := os.ReadFile("REPORT.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, pat := range []string{"testdata/*.txt", "testdata/routers/*.txt"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".txt")
			if d := filepath.Base(filepath.Dir(f)); d != "testdata" {
				name = d + "/" + name
			}
			want = append(want, name)
		}
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)$`).FindAllStringSubmatch(string(md), -1) {
		got = append(got, m[1])
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("REPORT.md scenarios (-scripts +report); run make difftest-report:\n%s", diff)
	}
}
