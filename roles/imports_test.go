package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The module's import graph points down:
//
//	main → roles → {embeddeddb, northd, controller, l3} → leaves
//
// Only main imports roles; main reaches the role packages only through
// roles; leaves import none of the above; northd and controller never
// reach each other, not even through a third package. Other commands
// (package main below the root) sit between roles and the role packages.
// Test files may import what they like, except roles.

const modulePath = "github.com/ovnd/ovnd"

// middle are the role packages; each names a group with its subpackages.
//
// dhcp is a leaf, not a role: it is the pure DHCP packet logic that the
// controller's packet-in handler (controller/pinctrl) runs for
// put_dhcp_opts and put_dhcpv6_opts, and it imports nothing of the
// module.
var middle = []string{"embeddeddb", "northd", "controller", "l3"}

// Tiers, high to low. A package imports only from lower tiers, or its own
// group.
const (
	tierLeaf = iota
	tierMiddle
	tierCommand
	tierRoles
	tierMain
)

var tierNames = []string{"leaf", "role package", "command", "roles", "main"}

type listedPackage struct {
	ImportPath   string
	Name         string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// group is the first path element under the module ("" for the root), so
// that northd/lflow belongs with northd.
func group(path string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(path, modulePath), "/")
	g, _, _ := strings.Cut(rel, "/")
	return g
}

func tier(p listedPackage) int {
	g := group(p.ImportPath)
	switch {
	case p.ImportPath == modulePath:
		return tierMain
	case g == "roles":
		return tierRoles
	case p.Name == "main":
		return tierCommand
	case slices.Contains(middle, g):
		return tierMiddle
	}
	return tierLeaf
}

func listModule(t *testing.T) map[string]listedPackage {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Name,Imports,TestImports,XTestImports", modulePath+"/...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if _, ok := pkgs[modulePath+"/roles"]; !ok {
		t.Fatalf("go list did not list %s/roles", modulePath)
	}
	return pkgs
}

func TestImportDirection(t *testing.T) {
	pkgs := listModule(t)
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			q, ok := pkgs[imp]
			if !ok {
				continue // outside the module
			}
			if msg := badImport(p, q); msg != "" {
				t.Errorf("%s (%s) imports %s (%s): %s", p.ImportPath, tierNames[tier(p)], imp, tierNames[tier(q)], msg)
			}
		}
		tests := append(slices.Clone(p.TestImports), p.XTestImports...)
		for _, imp := range tests {
			if q, ok := pkgs[imp]; ok && tier(q) == tierRoles && tier(p) != tierRoles && tier(p) != tierMain {
				t.Errorf("tests of %s import %s: only main imports roles", p.ImportPath, imp)
			}
		}
	}
}

// badImport says why p must not import q, or returns "".
func badImport(p, q listedPackage) string {
	pt, qt := tier(p), tier(q)
	switch {
	case group(p.ImportPath) == group(q.ImportPath) && pt != tierMain:
		return ""
	case qt == tierRoles && pt != tierMain:
		return "only main imports roles"
	case pt == tierMain && qt == tierMiddle:
		return "main reaches role packages only through roles"
	case qt > pt:
		return "imports must point down: main → roles → role packages → leaves"
	}
	return ""
}

func TestNorthdAndControllerStayApart(t *testing.T) {
	pkgs := listModule(t)
	for _, pair := range [][2]string{{"northd", "controller"}, {"controller", "northd"}} {
		for _, p := range pkgs {
			if group(p.ImportPath) != pair[0] {
				continue
			}
			if path := reach(pkgs, p.ImportPath, pair[1]); path != nil {
				t.Errorf("%s reaches %s: %s", pair[0], pair[1], strings.Join(path, " → "))
			}
		}
	}
}

// reach returns an import path from package from to any package of group
// to, or nil.
func reach(pkgs map[string]listedPackage, from, to string) []string {
	seen := map[string]bool{}
	var walk func(path []string) []string
	walk = func(path []string) []string {
		cur := path[len(path)-1]
		if group(cur) == to {
			return path
		}
		for _, imp := range pkgs[cur].Imports {
			if _, in := pkgs[imp]; in && !seen[imp] {
				seen[imp] = true
				if found := walk(append(slices.Clone(path), imp)); found != nil {
					return found
				}
			}
		}
		return nil
	}
	return walk([]string{from})
}

// The rules themselves, on made-up packages.
func TestBadImport(t *testing.T) {
	pkg := func(rel, name string) listedPackage {
		return listedPackage{ImportPath: strings.TrimSuffix(modulePath+"/"+rel, "/"), Name: name}
	}
	main, roles := pkg("", "main"), pkg("roles", "roles")
	db, northd, ctl := pkg("embeddeddb", "embeddeddb"), pkg("northd", "northd"), pkg("controller/ofctrl", "ofctrl")
	leaf, leaf2, cmd := pkg("ovnschema", "ovnschema"), pkg("ovsdb/wire", "wire"), pkg("bench/ovsdbbench", "main")
	tests := []struct {
		p, q listedPackage
		ok   bool
	}{
		{main, roles, true},
		{main, leaf, true},
		{main, db, false},
		{roles, db, true},
		{roles, northd, true},
		{roles, leaf, true},
		{db, roles, false},
		{leaf, roles, false},
		{cmd, roles, false},
		{cmd, db, true},
		{db, leaf, true},
		{northd, db, true},
		{ctl, pkg("controller", "controller"), true},
		{leaf, db, false},
		{leaf, cmd, false},
		{leaf, leaf2, true},
		{db, cmd, false},
	}
	for _, tt := range tests {
		if got := badImport(tt.p, tt.q) == ""; got != tt.ok {
			t.Errorf("%s imports %s: allowed = %v, want %v", tt.p.ImportPath, tt.q.ImportPath, got, tt.ok)
		}
	}
	graph := map[string]listedPackage{
		northd.ImportPath: {ImportPath: northd.ImportPath, Imports: []string{leaf.ImportPath}},
		leaf.ImportPath:   {ImportPath: leaf.ImportPath, Imports: []string{ctl.ImportPath}},
		ctl.ImportPath:    {ImportPath: ctl.ImportPath},
	}
	if path := reach(graph, northd.ImportPath, "controller"); len(path) != 3 {
		t.Errorf("reach through a leaf = %v, want northd → ovnschema → controller/ofctrl", path)
	}
}
