package runner

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the layers pointing one way: runner is plain Go and
// may import only the standard library and proc (never gopher-lua or
// luaapi).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && imp != "github.com/hazlua/hazlua/proc" {
			t.Errorf("runner imports %s", imp)
		}
	}
}
