package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// End-to-end tests of what hazlua gives editors and shells: the LuaLS
// definitions (--types) and the completion scripts (--completion), run in
// real shells against the real binary.

// walkLua prints every function and value of the live haz module, as
// "haz.fs.read" lines: a table of functions is a submodule, any other
// value (haz.env, haz.args, haz.json.null) is a value. A value with a
// metatable may offer functions through __index (haz.env.load): the
// names given as arguments are probed. (Methods are
// behind a protected metatable; luaapi's TestAPIMatchesModule checks
// them against the declarations, and luatypes' tests the declarations
// against the file.)
const walkLua = `
local function hasFunctions(t)
  for _, v in pairs(t) do
    if type(v) == "function" then return true end
  end
  return false
end
local function walk(prefix, t)
  for k, v in pairs(t) do
    local name = prefix .. "." .. k
    if type(v) == "table" and getmetatable(v) == nil and hasFunctions(v) then
      walk(name, v)
    else
      print(name)
      if type(v) == "table" and getmetatable(v) ~= nil then
        for _, probe in ipairs(haz.args) do
          local key = probe:match("^" .. name:gsub("%.", "%%.") .. "%.([%w_]+)$")
          if key and type(v[key]) == "function" then print(probe) end
        end
      end
    end
  end
end
walk("haz", haz)
`

// TestTypesMatchTheModule: the definition file --types writes declares
// exactly the functions and values of the module a script sees.
func TestTypesMatchTheModule(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(walkLua))
	code, stdout, stderr := runScript(t, dir, runOpts{}, "--types", "types")
	if code != 0 || len(stdout) != 1 || stdout[0] != "wrote types/haz.lua and .luarc.json" {
		t.Fatalf("--types: exit %d, %q, %q", code, stdout, stderr)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "types", "haz.lua"))
	if err != nil {
		t.Fatal(err)
	}
	// Functions, values, and values with functions under them (a class
	// with a [key] field: haz.env).
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^(?:function ([\w.:]+)\(|(haz[\w.]*) = nil$|---@field \[\w+\] .*\n(haz[\w.]*) = \{\}$)`).FindAllStringSubmatch(string(meta), -1) {
		if name := m[1] + m[2] + m[3]; !strings.Contains(name, ":") {
			declared = append(declared, name)
		}
	}
	code, live, stderr := runScript(t, dir, runOpts{}, append([]string{"build.lua", "--"}, declared...)...)
	if code != 0 {
		t.Fatalf("walk: exit %d: %q", code, stderr)
	}
	slices.Sort(declared)
	slices.Sort(live)
	if !slices.Equal(declared, live) {
		t.Errorf("declared in types/haz.lua:\n%s\nlive in the module:\n%s", strings.Join(declared, "\n"), strings.Join(live, "\n"))
	}
	rc, _ := os.ReadFile(filepath.Join(dir, ".luarc.json"))
	for _, want := range []string{`"Lua 5.1"`, `"types"`, `"haz"`} {
		if !strings.Contains(string(rc), want) {
			t.Errorf(".luarc.json lacks %s:\n%s", want, rc)
		}
	}
	if _, err := exec.LookPath("lua-language-server"); err == nil {
		t.Log("lua-language-server is installed: TestLuaLSCheck runs it")
	}
}
