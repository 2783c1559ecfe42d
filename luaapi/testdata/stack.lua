-- The call stack (docs/api.md, Limits): deep recursion runs; runaway
-- recursion is a Lua error naming the line, never a Go crash.

--- 100,000-deep recursion
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
print(depth(100000)) -- want: 100000

--- 100,000-deep recursion in a task
-- stderr: ^hazlua: 1 succeeded in [0-9.]+s\n$
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
haz.task("default", function() print(depth(100000)) end) -- want: [default] 100000

--- 5,000-deep recursion through pcall
local function depth(n)
  if n == 0 then return 0 end
  local ok, v = pcall(depth, n - 1)
  return v + 1
end
print(depth(5000)) -- want: 5000

--- 5,000-deep recursion through __index
local t = setmetatable({}, {__index = function(t, k) if k == 0 then return 0 end return t[k - 1] + 1 end})
print(t[5000]) -- want: 5000

--- infinite recursion
local function f() return 1 + f() end -- error: ^stack overflow$
f()

--- infinite recursion in a task
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:3: stack overflow\nhazlua: 0 succeeded, 1 failed in [0-9.]+s\n$
local function f() return 1 + f() end
haz.task("default", function() f() end)

--- infinite recursion through pcall is caught, and the script goes on
local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end
local ok, e = pcall(f)
print(ok, e) -- want: false	build.lua:1: calls through pcall, metamethods or library callbacks nested more than 10000 deep: stack overflow
print(select(2, pcall(f)) == e) -- want: true

--- infinite recursion through pcall, uncaught
local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end -- error: ^calls through pcall, metamethods or library callbacks nested more than 10000 deep: stack overflow$
f()

--- infinite recursion through __index
local t = setmetatable({}, {__index = function(t, k) return t[k] end}) -- error: stack overflow$
print(t.x)

--- infinite recursion through coroutines and pcall
local function f() return coroutine.wrap(function() return select(2, pcall(f)) end)() end
print(f()) -- want: build.lua:1: coroutine: more than 200 nested resumes (runaway recursion?)

--- a local assigned after a caught error is seen by its closures
local n = 0
local function count() n = n + 1 end
print(pcall(error, "boom", 0)) -- want: false	boom
count()
count()
print(n) -- want: 2
