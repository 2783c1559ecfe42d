package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// scriptSet holds the paths of the generated scripts.
type scriptSet struct {
	empty      string // hazlua: empty file
	spawn      string // hazlua: sequential haz.run{"/bin/true"}
	pipe       string // hazlua: haz.pipe head|cat|cat|wc
	capture    string // hazlua: capture stdout of head
	luaCapture string // lua5.4: io.popen of head, read all
}

// writeScripts generates every script of the run into dir.
func writeScripts(dir string, sz sizes) (scriptSet, error) {
	s := scriptSet{
		empty:      filepath.Join(dir, "empty.lua"),
		spawn:      filepath.Join(dir, "spawn.lua"),
		pipe:       filepath.Join(dir, "pipe.lua"),
		capture:    filepath.Join(dir, "capture.lua"),
		luaCapture: filepath.Join(dir, "capture_lua54.lua"),
	}
	files := map[string]string{
		s.empty: "",
		s.spawn: fmt.Sprintf("for i=1,%d do haz.run{\"/bin/true\"} end\n", sz.spawns),
		s.pipe: fmt.Sprintf(`local p = haz.pipe({"head","-c","%[1]d","/dev/zero"}, {"cat"}, {"cat"}, {"wc","-c"})
local r = p:wait()
assert(r.ok, "pipeline failed")
local out = r.stdout or p:stdout()
assert(tonumber(out) == %[1]d, "wc -c printed " .. tostring(out))
`, sz.pipeBytes),
		s.capture: fmt.Sprintf(`local p = haz.spawn{"head","-c","%[1]d","/dev/zero"}
local r = p:wait()
assert(r.ok, "head failed")
assert(#p:stdout() == %[1]d)
`, sz.captureBytes),
		s.luaCapture: fmt.Sprintf(`local f = io.popen("head -c %[1]d /dev/zero")
local s = f:read("a")
assert(#s == %[1]d)
assert(f:close())
`, sz.captureBytes),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return s, err
		}
	}
	return s, nil
}
