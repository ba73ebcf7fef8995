package build

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestStageIDs: every stage declared in stage.go is in SwitchStages, so
// that the flow keys number it (idOf), and numbers round-trip; a Stage
// declared nowhere gets 0.
func TestStageIDs(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "stage.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 1 {
			if cl, ok := vs.Values[0].(*ast.CompositeLit); ok {
				if id, ok := cl.Type.(*ast.Ident); ok && id.Name == "Stage" {
					declared++
				}
			}
		}
		return true
	})
	if declared != len(SwitchStages) {
		t.Errorf("stage.go declares %d stages, SwitchStages lists %d", declared, len(SwitchStages))
	}
	seen := map[stageID]bool{}
	for _, st := range SwitchStages {
		id := idOf(st)
		if id == 0 || seen[id] || id.stage() != st {
			t.Errorf("stage %v: id %d (seen %v), back to %v", st, id, seen[id], id.stage())
		}
		seen[id] = true
	}
	for _, st := range []Stage{{}, {Ingress, 8, "lr_in_ip_routing"}, {Egress, 63, "x"}, {Ingress, 64, "x"}, {Ingress, -1, "x"}} {
		if id := idOf(st); id != 0 {
			t.Errorf("undeclared stage %v: id %d", st, id)
		}
	}
}
