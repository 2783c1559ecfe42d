-- haz.parallel and haz.sleep (SPEC S3, S5): results in order, the first
-- error cancels the others and is raised with its file:line, nesting, job
-- slots. Overlap is proved with FIFOs, not timing: a reader and a writer of
-- a FIFO can only both finish if they run at the same time (each process
-- has a timeout so that a failure is an error, not a hang).

--- results in argument order
local a, b, c = haz.parallel(function()
  haz.sleep(0.2)
  return "first"
end, function()
  haz.sleep(0.1)
  return "second"
end, function()
  return "third"
end)
print(a, b, c) -- want: first	second	third

--- a list of functions
local r = {haz.parallel{
  function() return haz.output{"echo", "x"} end,
  function() return haz.output{"echo", "y"} end,
}}
print(#r, r[1], r[2]) -- want: 2	x	y

--- only the first value of each, nil included
print(select("#", haz.parallel(function() return 1, 2 end, function() end, function() return nil, 3 end))) -- want: 3
print(haz.parallel(function() return 1, 2 end, function() end, function() return "z" end)) -- want: 1	nil	z

--- no functions
print(select("#", haz.parallel())) -- want: 0
print(select("#", haz.parallel{})) -- want: 0

--- branches overlap
-- want: hello through a fifo
haz.run{"mkfifo", "f"}
local got = haz.parallel(function()
  return haz.output{"cat", "f", timeout = 10}
end, function()
  haz.run{"sh", "-c", "echo hello through a fifo > f", timeout = 10}
end)
print(got)

--- plain Lua runs while a sibling waits
-- The second branch opens the FIFO with plain Lua I/O (which holds the
-- lock) only once the reader runs; it can run at all only because the first
-- branch's wait released the lock.
haz.run{"mkfifo", "f"}
local log, started = {}, false
local got = haz.parallel(function()
  local p = haz.spawn{"cat", "f", timeout = 10}
  started = true
  table.insert(log, "reader waits")
  local s = p:stdout()
  table.insert(log, "reader done")
  return s
end, function()
  while not started do haz.sleep(0.01) end
  table.insert(log, "writer runs")
  local w = assert(io.open("f", "w"))
  w:write("from Lua\n")
  w:close()
end)
io.write(got) -- want: from Lua
print(table.concat(log, ", ")) -- want: reader waits, writer runs, reader done

--- the error of a branch is raised with its file:line
haz.parallel(function()
  return 1
end, function()
  error("branch failed") -- error: ^branch failed$
end)

--- the error of a nested call in a branch
haz.parallel(function()
  haz.run{"sh", "-c", "exit 6", name = "step"} -- error: ^haz\.run: "step" exited with status 6$
end)

--- an error cancels the other branches and their processes
local p, reached
local ok, err = pcall(haz.parallel, function()
  p = haz.spawn{"sleep", "30"}
  p:wait()
  reached = true
end, function()
  haz.sleep(0.1)
  error("stop everything")
end)
print(ok, err) -- want: false	build.lua:8: stop everything
local r = p:wait()
print(reached, r.cancelled, r.signal) -- want: nil	true	term

--- an error cancels a haz.run in a sibling
local ok, err = pcall(haz.parallel, function()
  haz.run{"sleep", "30"}
end, function()
  error("boom", 0)
end)
print(ok, err) -- want: false	boom

--- a cancelled branch stops even inside pcall
local ok, err = pcall(haz.parallel, function()
  while true do
    pcall(haz.sleep, 30)
  end
end, function()
  haz.sleep(0.1)
  error("stop", 0)
end)
print(ok, err) -- want: false	stop

--- cancellation interrupts every kind of wait
-- flags: --grace 20 -j0
-- The children ignore SIGTERM, so only a wait that watches for the
-- cancellation returns before the 20 s grace period; they are killed at
-- the end.
local stubborn = "trap '' TERM; echo ready; exec sleep 30"
local victims = {}
local function spawn(spec)
  local p = haz.spawn(spec)
  table.insert(victims, p)
  return p
end
local function try(name, f)
  local t0 = os.time()
  local ok, err = pcall(haz.parallel, f, function()
    haz.sleep(0.2)
    error("stop", 0)
  end)
  print(name, ok, err, os.time() - t0 <= 3)
end
try("wait", function() spawn{"sh", "-c", stubborn, stdout = "null"}:wait() end)
try("stdout capture", function() spawn{"sh", "-c", stubborn}:stdout() end)
try("stdout pipe", function() spawn{"sh", "-c", stubborn, stdout = "pipe"}:stdout() end)
try("lines pipe", function() for _ in spawn{"sh", "-c", stubborn, stdout = "pipe"}:lines() do end end)
try("lines capture", function() for _ in spawn{"sh", "-c", stubborn}:lines() do end end)
try("write", function()
  spawn{"sh", "-c", stubborn, stdin = "pipe", stdout = "null"}:write(string.rep("x", 1048576))
end)
try("pipe wait", function()
  local p = haz.pipe({"sh", "-c", stubborn}, {"cat"})
  table.insert(victims, p)
  p:wait()
end)
try("popen read", function()
  local f = io.popen((stubborn:gsub("echo ready", "echo $$")))
  table.insert(victims, f:read("n"))
  f:read("a")
end)
for _, v in ipairs(victims) do
  if type(v) == "number" then os.execute("kill -KILL -" .. v) else v:signal("kill") end
end
-- want: wait	false	stop	true
-- want: stdout capture	false	stop	true
-- want: stdout pipe	false	stop	true
-- want: lines pipe	false	stop	true
-- want: lines capture	false	stop	true
-- want: write	false	stop	true
-- want: pipe wait	false	stop	true
-- want: popen read	false	stop	true

--- the first error in time wins
local ok, err = pcall(haz.parallel, function()
  haz.sleep(0.3)
  error("late", 0)
end, function()
  error("early", 0)
end)
print(ok, err) -- want: false	early

--- the first error in time wins over the cancellation errors
local ok, err = pcall(haz.parallel, function()
  haz.sleep(30)
end, function()
  haz.output{"sleep", "30"}
end, function()
  haz.sleep(0.1)
  haz.run{"sh", "-c", "exit 2", name = "failing"}
end)
print(ok, err) -- want: false	build.lua:7: haz.run: "failing" exited with status 2

--- error values other than strings
local ok, err = pcall(haz.parallel, function()
  error({code = 7})
end)
print(ok, type(err), err.code) -- want: false	table	7

--- the script continues after a caught branch error
local ok = pcall(haz.parallel, function() error("x") end)
print(ok, haz.output{"echo", "still works"}) -- want: false	still works
print(haz.parallel(function() return "again" end)) -- want: again

--- nesting
local a, b = haz.parallel(function()
  local x, y = haz.parallel(function()
    return haz.output{"echo", "inner1"}
  end, function()
    return haz.output{"echo", "inner2"}
  end)
  return x .. "+" .. y
end, function()
  return haz.output{"echo", "outer"}
end)
print(a, b) -- want: inner1+inner2	outer

--- an error in a nested branch
local ok, err = pcall(haz.parallel, function()
  haz.parallel(function()
    haz.sleep(30)
  end, function()
    error("deep")
  end)
end, function()
  haz.sleep(30)
end)
print(ok, err) -- want: false	build.lua:5: deep

--- -j1 runs one branch's process at a time
-- flags: -j1
-- Each process holds a lock directory while it runs: two at once would
-- fail on mkdir.
local fns = {}
for i = 1, 4 do
  fns[i] = function()
    return haz.output{"sh", "-c", "mkdir lock && sleep 0.05 && rmdir lock && echo " .. i}
  end
end
print(haz.parallel(fns)) -- want: 1	2	3	4
print(haz.jobs) -- want: 1

--- -j2 overlaps two branches' processes
-- flags: -j2
haz.run{"mkfifo", "f"}
print(haz.parallel(function()
  return haz.output{"cat", "f", timeout = 10}
end, function()
  haz.run{"sh", "-c", "echo overlap > f", timeout = 10}
  return "wrote"
end)) -- want: overlap	wrote

--- job false does not wait for a slot
-- flags: -j1
haz.run{"mkfifo", "f"}
print(haz.parallel(function()
  return haz.output{"cat", "f", timeout = 10}
end, function()
  haz.run{"sh", "-c", "echo no slot needed > f", timeout = 10, job = false}
end)) -- want: no slot needed	nil

--- a process reading another's stdout joins its job
-- flags: -j1
-- The producer holds the only slot; the consumer would wait forever for a
-- second one.
print(haz.parallel(function()
  local producer = haz.spawn{"printf", "joined\\n", stdout = "pipe", timeout = 10}
  local consumer = haz.spawn{"cat", stdin = producer, timeout = 10}
  return consumer:stdout()
end)) -- want: joined
-- want:

--- the top level takes no slot
-- flags: -j1
haz.run{"mkfifo", "f"}
local reader = haz.spawn{"cat", "f", timeout = 10}
haz.run{"sh", "-c", "echo top level > f", timeout = 10}
print(reader:stdout()) -- want: top level
-- want:

--- sleep
haz.sleep(0.01)
haz.sleep("10ms")
print(select("#", haz.sleep(0.01))) -- want: 0

--- sleeps overlap
-- Ten one-second sleeps in parallel take about one second, not ten.
local t0 = os.time()
local fns = {}
for i = 1, 10 do fns[i] = function() haz.sleep(1) return i end end
local r = {haz.parallel(fns)}
print(#r, r[10], os.time() - t0 <= 3) -- want: 10	10	true

--- sleep blocks only its thread
local log = {}
haz.parallel(function()
  haz.sleep(0.3)
  table.insert(log, "slept")
end, function()
  table.insert(log, "ran")
end)
print(table.concat(log, " ")) -- want: ran slept

--- print from branches
haz.parallel(function() print("a") end)
haz.parallel(function() io.write("b\n") end)
-- want: a
-- want: b
