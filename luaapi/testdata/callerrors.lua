-- Calling what is not a function names what was called, as Lua 5.1 does
-- (docs/design.md, The gopher-lua patch).

--- a missing field of haz.env
haz.env.get("PATH") -- error: ^attempt to call field 'get' \(a nil value\)$

--- a missing haz function
haz.nosuch() -- error: ^attempt to call field 'nosuch' \(a nil value\)$

--- a missing function of a haz library
local ok, e = pcall(function() return haz.fs.nope("x") end)
print(e) -- want: build.lua:1: attempt to call field 'nope' (a nil value)

--- a missing global
local x = 1
build_it() -- error: ^attempt to call global 'build_it' \(a nil value\)$

--- a missing method of a string
local s = "main.c"
print(s:basename()) -- error: ^attempt to call method 'basename' \(a nil value\)$

--- a local that is not a function
local run = 5
run() -- error: ^attempt to call local 'run' \(a number value\)$

--- an upvalue that is nil
local compile
local function build() compile("main.c") end -- error: ^attempt to call upvalue 'compile' \(a nil value\)$
build()

--- a field that is a table
local tools = {cc = {}}
tools.cc("main.c") -- error: ^attempt to call field 'cc' \(a table value\)$

--- in a task
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:4: attempt to call global 'nosuch' \(a nil value\)\nhazlua: 0 succeeded, 1 failed in [0-9.]+s\n$
haz.task("default", function()
  nosuch()
end)

--- what cannot be named is not
local a, b
(a or b)() -- error: ^attempt to call a nil value$
