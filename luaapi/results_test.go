package luaapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazlua/hazlua/luaapi"
)

// TestResultTables: the keys of the tables hazlua hands to scripts (a
// process's result, a task body's t) are the declared ones (API().Results),
// so the editor types describe what scripts really get.
func TestResultTables(t *testing.T) {
	dir := t.TempDir()
	script := `
local seen = {}
local function keys(class, t)
  for k in pairs(t) do seen[#seen + 1] = class .. "." .. k end
end
keys("haz.Result", haz.spawn{"sh", "-c", "exit 3"}:wait())
keys("haz.Result", haz.spawn{"sh", "-c", "kill -TERM $$", stdout = "capture", stderr = "capture"}:wait())
local p = haz.pipe({"yes"}, {"head", "-n", "1"})
keys("haz.Result", p:wait())
for _, r in ipairs(p:wait().results) do keys("haz.Result", r) end
haz.task("default", {params = {env = "dev"}, run = function(t)
  keys("haz.Task", t)
  table.sort(seen)
  assert(haz.fs.write("keys.txt", table.concat(seen, "\n")))
end})
`
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runHazlua(t, dir, nil, nil, "", 0); r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "keys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for _, k := range strings.Split(string(b), "\n") {
		live[k] = true
	}
	declared := map[string]bool{}
	for _, o := range luaapi.API().Results {
		for _, f := range o.Fields {
			declared[o.Name+"."+f.Name] = true
		}
	}
	// "error" is set only when hazlua fails around a process (a full
	// disk under a capture, SIGTTIN): not something a test provokes here.
	live["haz.Result.error"] = true
	for k := range live {
		if !declared[k] {
			t.Errorf("%s is in the live table but not declared in api.go", k)
		}
	}
	for k := range declared {
		if !live[k] {
			t.Errorf("%s is declared in api.go but no live table had it", k)
		}
	}
}
