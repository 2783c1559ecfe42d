package arch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/hazlua/hazlua"

// pkg is what `go list -json` says of a package of the module.
type pkg struct {
	ImportPath   string
	Imports      []string // direct imports
	Deps         []string // every indirect import
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// TestLayers checks the import rules of the package comment against the
// module as it is.
func TestLayers(t *testing.T) {
	pkgs, err := listModule()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "internal/cli", "luaapi", "runner", "proc"} {
		if pkgs[path(name)] == nil {
			t.Fatalf("go list did not list %s", path(name))
		}
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestLayersCatchViolations: each rule, broken in a made-up module, is
// reported.
func TestLayersCatchViolations(t *testing.T) {
	tests := []struct {
		name  string
		pkgs  []*pkg
		wants []string
	}{
		{
			name: "proc imports runner",
			pkgs: []*pkg{{ImportPath: path("proc"), Imports: []string{path("runner")}, Deps: []string{path("runner"), "fmt"}}, {ImportPath: path("runner")}},
			wants: []string{
				module + "/proc imports " + module + "/runner: proc may import nothing of hazlua but leaf helpers under internal/",
			},
		},
		{
			name: "proc imports a helper that is not a leaf",
			pkgs: []*pkg{
				{ImportPath: path("proc"), Imports: []string{path("internal/x")}, Deps: []string{path("internal/x"), path("runner")}},
				{ImportPath: path("internal/x"), Imports: []string{path("runner")}, Deps: []string{path("runner")}},
				{ImportPath: path("runner")},
			},
			wants: []string{
				module + "/proc imports " + module + "/internal/x: proc may import nothing of hazlua but leaf helpers under internal/",
				module + "/proc imports " + module + "/runner: proc may import nothing of hazlua but leaf helpers under internal/",
			},
		},
		{
			name: "proc imports a leaf helper",
			pkgs: []*pkg{{ImportPath: path("proc"), Imports: []string{path("internal/x")}, Deps: []string{path("internal/x")}}, {ImportPath: path("internal/x"), Imports: []string{"os"}}},
		},
		{
			name: "runner's test imports luaapi",
			pkgs: []*pkg{
				{ImportPath: path("runner"), XTestImports: []string{path("runner"), path("luaapi")}},
				{ImportPath: path("luaapi"), Imports: []string{path("runner")}, Deps: []string{path("runner")}},
			},
			wants: []string{
				module + "/runner (tests) imports " + module + "/luaapi: runner may not import luaapi or the command",
			},
		},
		{
			name: "luaapi imports the command indirectly",
			pkgs: []*pkg{
				{ImportPath: path("luaapi"), Imports: []string{path("internal/y")}, Deps: []string{path("internal/y"), path("internal/cli")}},
				{ImportPath: path("internal/y"), Imports: []string{path("internal/cli")}, Deps: []string{path("internal/cli")}},
				{ImportPath: path("internal/cli")},
			},
			wants: []string{
				module + "/internal/y imports " + module + "/internal/cli: only the main package may import internal/cli",
				module + "/luaapi imports " + module + "/internal/cli: luaapi may not import the command",
			},
		},
		{
			name: "runner imports gopher-lua",
			pkgs: []*pkg{{ImportPath: path("runner"), Imports: []string{"github.com/yuin/gopher-lua/ast"}, Deps: []string{"github.com/yuin/gopher-lua/ast"}}},
			wants: []string{
				module + "/runner imports github.com/yuin/gopher-lua/ast: only luaapi may import gopher-lua",
			},
		},
		{
			name: "the command imports gopher-lua",
			pkgs: []*pkg{{ImportPath: path("internal/cli"), Imports: []string{"github.com/yuin/gopher-lua"}}},
			wants: []string{
				module + "/internal/cli imports github.com/yuin/gopher-lua: only luaapi may import gopher-lua",
			},
		},
		{
			name: "allowed: the command through luaapi, bench/barelua",
			pkgs: []*pkg{
				{ImportPath: module, Imports: []string{path("internal/cli")}, Deps: []string{path("internal/cli"), path("luaapi"), "github.com/yuin/gopher-lua"}},
				{ImportPath: path("internal/cli"), Imports: []string{path("luaapi")}, Deps: []string{path("luaapi"), "github.com/yuin/gopher-lua"}},
				{ImportPath: path("luaapi"), Imports: []string{"github.com/yuin/gopher-lua", path("runner")}, Deps: []string{"github.com/yuin/gopher-lua", path("runner")}},
				{ImportPath: path("bench/barelua"), Imports: []string{"github.com/yuin/gopher-lua"}},
				{ImportPath: path("runner"), Imports: []string{path("proc")}, Deps: []string{path("proc")}},
				{ImportPath: path("proc")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs := map[string]*pkg{}
			for _, p := range tt.pkgs {
				pkgs[p.ImportPath] = p
			}
			if got := violations(pkgs); !slices.Equal(got, tt.wants) {
				t.Errorf("violations:\n got %q\nwant %q", got, tt.wants)
			}
		})
	}
}

// path returns the import path of the module's package name ("" is the
// module itself, the main package).
func path(name string) string {
	if name == "" {
		return module
	}
	return module + "/" + name
}

// listModule runs `go list` over the module.
func listModule() (map[string]*pkg, error) {
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Deps,TestImports,XTestImports,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %v", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs, nil
}

// violations returns a message for every import that breaks a rule of the
// package comment, sorted.
func violations(pkgs map[string]*pkg) []string {
	var out []string
	for _, p := range pkgs {
		for _, tests := range []bool{false, true} {
			for _, imp := range imports(pkgs, p, tests) {
				if why := forbidden(pkgs, p.ImportPath, imp, slices.Contains(p.Imports, imp) ||
					tests && (slices.Contains(p.TestImports, imp) || slices.Contains(p.XTestImports, imp))); why != "" {
					who := p.ImportPath
					if tests {
						who += " (tests)"
					}
					out = append(out, fmt.Sprintf("%s imports %s: %s", who, imp, why))
				}
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// imports returns every package p imports, directly or not: those of its
// code, or (tests) those its tests add.
func imports(pkgs map[string]*pkg, p *pkg, tests bool) []string {
	if !tests {
		return union(p.Imports, p.Deps)
	}
	var all []string
	for _, imp := range union(p.TestImports, p.XTestImports) {
		if imp == p.ImportPath {
			continue // the external test package imports the package
		}
		all = append(all, imp)
		if q := pkgs[imp]; q != nil {
			all = append(all, q.Deps...)
		}
	}
	own := union(p.Imports, p.Deps)
	return slices.DeleteFunc(union(all), func(s string) bool { return s == p.ImportPath || slices.Contains(own, s) })
}

func union(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// forbidden says why from may not import imp (direct: it names imp in an
// import declaration), or returns "".
func forbidden(pkgs map[string]*pkg, from, imp string, direct bool) string {
	inModule := func(s string) bool { return s == module || strings.HasPrefix(s, module+"/") }
	if direct && (imp == "github.com/yuin/gopher-lua" || strings.HasPrefix(imp, "github.com/yuin/gopher-lua/")) &&
		from != path("luaapi") && from != path("bench/barelua") {
		return "only luaapi may import gopher-lua"
	}
	switch from {
	case path("proc"):
		if inModule(imp) && !isLeafHelper(pkgs, imp) {
			return "proc may import nothing of hazlua but leaf helpers under internal/"
		}
	case path("runner"):
		if imp == path("luaapi") || isCommand(imp) {
			return "runner may not import luaapi or the command"
		}
	case path("luaapi"):
		if isCommand(imp) {
			return "luaapi may not import the command"
		}
	}
	if direct && imp == path("internal/cli") && from != module {
		return "only the main package may import internal/cli"
	}
	return ""
}

// isCommand reports whether imp is the command: the main package or
// internal/cli.
func isCommand(imp string) bool { return imp == module || imp == path("internal/cli") }

// isLeafHelper reports whether imp is a package under internal/ that
// imports nothing of the module.
func isLeafHelper(pkgs map[string]*pkg, imp string) bool {
	p := pkgs[imp]
	if p == nil || !strings.HasPrefix(imp, path("internal")+"/") {
		return false
	}
	for _, d := range union(p.Imports, p.Deps) {
		if d == module || strings.HasPrefix(d, module+"/") {
			return false
		}
	}
	return true
}
