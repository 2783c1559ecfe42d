package runner

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the layers pointing one way: runner is plain Go and
// may import only the standard library, proc and internal/suggest (never
// gopher-lua or luaapi).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && imp != "github.com/hazlua/hazlua/proc" && imp != "github.com/hazlua/hazlua/internal/suggest" {
			t.Errorf("runner imports %s", imp)
		}
	}
}
