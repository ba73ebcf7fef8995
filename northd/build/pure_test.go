package build

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The build is pure (STYLE.md rule 2): its own files import nothing that
// does I/O, keeps time or synchronises goroutines, and start none.
func TestBuildIsPure(t *testing.T) {
	forbidden := map[string]bool{"os": true, "net": true, "time": true, "sync": true, "context": true,
		"io": true, "log": true, "log/slog": true, "math/rand": true, "math/rand/v2": true, "crypto/rand": true}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); forbidden[p] {
				t.Errorf("%s imports %s", name, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				t.Errorf("%s: go statement at %s", name, fset.Position(g.Pos()))
			}
			return true
		})
	}
}
