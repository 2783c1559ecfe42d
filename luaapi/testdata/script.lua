-- Errors of the script itself (SPEC S2, S3): the first line of stderr is
-- "hazlua: build.lua:N: ...", a syntax error exits 2, no Go trace.

--- a runtime error
local t = nil
print("before") -- want: before
local x = t.field -- error: attempt to index

--- error with a message
error("custom failure") -- error: ^custom failure$

--- error in a function names the line of the error
local function check(v)
  if not v then
    error("check failed") -- error: ^check failed$
  end
end
check(true)
check(false)

--- a syntax error exits 2 with its line
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: [^\n]*\n$
local ok = true
local x = = 2

--- a syntax error at the end of the file
-- exit: 2
-- stderr: ^hazlua: build\.lua:\d+: [^\n]*\n$
local function f()

--- an error inside pcall is caught
print(pcall(error, "caught", 0)) -- want: false	caught
print(select(2, pcall(haz.spawn, {}))) -- want: build.lua:2: haz.spawn: no program: give program = "name" or a list {"name", args...}
