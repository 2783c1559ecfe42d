-- Task scheduling (SPEC S5): the task and job caps of -j, mutexes
-- (exclusive and shared), tag caps (haz.limit), and that a task waiting for
-- a mutex or a tag holds no slot. Proved without timing:
--
--   - "These run at once" is a rendezvous: meet(n, name) returns only once n
--     task bodies have called it. The first n-1 wait in a process reading a
--     FIFO of their own; the n-th opens every FIFO for writing, which ends
--     those readers. If the n bodies cannot all run at once the readers time
--     out (10 s, a failure bound) and the run fails instead of hanging.
--   - "These never run at once" is a count kept by the bodies (Lua code runs
--     one thread at a time, and a body waits in a process in between) or,
--     for processes, a lock directory: `mkdir` fails if another process
--     holds it. A broken cap starts the waiting tasks at once, so the count
--     sees them; a correct one never trips it, however slow the machine.

--- with -j4, four tasks run at once
-- flags: -q -j4
-- timeout: 20
local names = {"a", "b", "c", "d"}
for _, n in ipairs(names) do haz.run{"mkfifo", "fifo-" .. n} end
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
for _, n in ipairs(names) do
  haz.task(n, function(t) meet(4, t.name) end)
end
haz.task("default", {deps = names, run = function() print(#arrived .. " met") end}) -- want: [default] 4 met

--- with -j0, no cap: many tasks run at once
-- flags: -q -j0
-- timeout: 20
local names = {}
for i = 1, 24 do names[i] = "t" .. i; haz.run{"mkfifo", "fifo-t" .. i} end
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
for _, n in ipairs(names) do
  haz.task(n, function(t) meet(#names, t.name) end)
end
haz.task("default", {deps = names, run = function() print(#arrived .. " met") end}) -- want: [default] 24 met

--- with -j1, never two tasks at once
-- flags: -q -j1
local running, peak, ran = 0, 0, 0
local names = {}
for i = 1, 6 do
  names[i] = "t" .. i
  haz.task(names[i], function()
    running = running + 1
    peak = math.max(peak, running)
    haz.run{"sleep", "0.02"}
    haz.sleep(0.01)
    ran = ran + 1
    running = running - 1
  end)
end
haz.task("default", {deps = names, run = function()
  print(("%d ran, at most %d at once"):format(ran, peak)) -- want: [default] 6 ran, at most 1 at once
end})

--- with -j1, one job at a time across tasks and haz.parallel branches
-- flags: -q -j1
-- A job takes the lock directory for its whole life; mkdir fails (and the
-- job exits 9) if another job holds it.
local job = {"sh", "-c", "mkdir lock || exit 9; sleep 0.02; rmdir lock"}
local names = {}
for i = 1, 3 do
  names[i] = "t" .. i
  haz.task(names[i], function()
    haz.parallel(function() haz.run(job) end, function() haz.run(job) end, function() haz.run(job) end)
    haz.run(job)
  end)
end
haz.task("default", {deps = names, run = function() print("no two jobs overlapped") end}) -- want: [default] no two jobs overlapped

--- with -j2, at most two jobs at once across tasks
-- flags: -q -j2
local job = {"sh", "-c", [[
if mkdir lock1 2>/dev/null; then l=lock1; elif mkdir lock2 2>/dev/null; then l=lock2; else exit 9; fi
sleep 0.02; rmdir $l]]}
local names = {}
for i = 1, 4 do
  names[i] = "t" .. i
  haz.task(names[i], function()
    haz.parallel(function() haz.run(job) end, function() haz.run(job) end, function() haz.run(job) end)
  end)
end
haz.task("default", {deps = names, run = function() print("at most two jobs at once") end}) -- want: [default] at most two jobs at once

--- a process with job = false takes no slot
-- flags: -q -j1
-- timeout: 20
-- The reader is a job-free helper; the task then needs its one slot for
-- the writer. If the helper took the slot, the writer would wait forever.
haz.run{"mkfifo", "f"}
haz.task("default", function()
  local helper = haz.spawn{"cat", "f", job = false, timeout = 10}
  haz.run{"sh", "-c", "echo via helper > f", timeout = 10}
  io.write(helper:stdout()) -- want: [default] via helper
end)

--- an exclusive mutex never overlaps, while other tasks do
-- flags: -q -j4
-- timeout: 20
-- a, b and c hold the mutex "db"; "free" holds none and meets a, which
-- proves that the cap lets two tasks run; b and c, ready at the same time,
-- must wait for the mutex.
haz.run{"mkfifo", "fifo-a"}
haz.run{"mkfifo", "fifo-free"}
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
local holders, peak, order = 0, 0, {}
local function hold(t)
  holders = holders + 1
  peak = math.max(peak, holders)
  table.insert(order, t.name)
  if t.name == "a" then meet(2, "a") end
  haz.run{"sleep", "0.05"}
  holders = holders - 1
end
haz.task("a", {mutex = "db", run = hold})
haz.task("b", {mutex = "db", run = hold})
haz.task("c", {mutex = {name = "db"}, run = hold})
haz.task("free", function() meet(2, "free") end)
haz.task("default", {deps = {"a", "b", "c", "free"}, run = function()
  print(("at most %d holder at once: %s"):format(peak, table.concat(order, " "))) -- want: [default] at most 1 holder at once: a b c
end})

--- different mutexes do not exclude each other
-- flags: -q -j4
-- timeout: 20
haz.run{"mkfifo", "fifo-x"}
haz.run{"mkfifo", "fifo-y"}
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
haz.task("x", {mutex = "one", run = function(t) meet(2, t.name) end})
haz.task("y", {mutex = "two", run = function(t) meet(2, t.name) end})
haz.task("default", {deps = {"x", "y"}, run = function() print(#arrived .. " met") end}) -- want: [default] 2 met

--- shared holders overlap; an exclusive holder waits for them all
-- flags: -q -j4
-- timeout: 20
for _, n in ipairs{"r1", "r2", "r3"} do haz.run{"mkfifo", "fifo-" .. n} end
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
local readers, writers, log = 0, 0, {}
local function read(t)
  readers = readers + 1
  if writers > 0 then error("a reader overlaps the writer") end
  meet(3, t.name)
  readers = readers - 1
end
haz.task("r1", {mutex = {name = "db", shared = true}, run = read})
haz.task("r2", {mutex = {name = "db", shared = true}, run = read})
haz.task("r3", {mutex = {name = "db", shared = true}, run = read})
haz.task("w", {mutex = "db", run = function()
  writers = writers + 1
  table.insert(log, ("writer saw %d readers"):format(readers))
  haz.run{"sleep", "0.05"}
  writers = writers - 1
end})
haz.task("default", {deps = {"r1", "r2", "r3", "w"}, run = function()
  print(#arrived .. " readers met; " .. table.concat(log)) -- want: [default] 3 readers met; writer saw 0 readers
end})

--- shared holders wait for an exclusive holder
-- flags: -q -j4
-- timeout: 20
for _, n in ipairs{"r1", "r2"} do haz.run{"mkfifo", "fifo-" .. n} end
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
local writing, log = false, {}
haz.task("w", {mutex = "db", run = function()
  writing = true
  haz.run{"sleep", "0.05"}
  table.insert(log, "w")
  writing = false
end})
local function read(t)
  if writing then error("a shared holder overlaps the exclusive one") end
  table.insert(log, t.name)
  meet(2, t.name)
end
haz.task("r1", {mutex = {name = "db", shared = true}, run = read})
haz.task("r2", {mutex = {name = "db", shared = true}, run = read})
haz.task("default", {deps = {"w", "r1", "r2"}, run = function()
  local first = table.remove(log, 1)
  table.sort(log)
  print(first .. " first, then " .. table.concat(log, " ") .. "; " .. #arrived .. " met") -- want: [default] w first, then r1 r2; 2 met
end})

--- shared = false is exclusive
-- flags: -q -j4
local holders, peak = 0, 0
local function hold()
  holders = holders + 1
  peak = math.max(peak, holders)
  haz.run{"sleep", "0.05"}
  holders = holders - 1
end
haz.task("a", {mutex = {name = "db", shared = false}, run = hold})
haz.task("b", {mutex = {name = "db", shared = false}, run = hold})
haz.task("c", {mutex = "db", run = hold})
haz.task("default", {deps = {"a", "b", "c"}, run = function() print(peak) end}) -- want: [default] 1

--- a tag capped at 1 serialises its tasks, not the others
-- flags: -q -j4
-- timeout: 20
haz.limit("link", 1)
haz.run{"mkfifo", "fifo-l1"}
haz.run{"mkfifo", "fifo-free"}
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
local running, peak, order = 0, 0, {}
local function link(t)
  running = running + 1
  peak = math.max(peak, running)
  table.insert(order, t.name)
  if t.name == "l1" then meet(2, "l1") end
  haz.run{"sleep", "0.05"}
  running = running - 1
end
haz.task("l1", {tags = {"link"}, run = link})
haz.task("l2", {tags = {"link", "other"}, run = link})
haz.task("l3", {tags = {"link"}, run = link})
haz.task("free", {tags = {"uncapped"}, run = function() meet(2, "free") end})
haz.task("default", {deps = {"l1", "l2", "l3", "free"}, run = function()
  print(("at most %d linking: %s"):format(peak, table.concat(order, " "))) -- want: [default] at most 1 linking: l1 l2 l3
end})

--- a tag capped at 2 lets two run, never three
-- flags: -q -j0
-- timeout: 20
haz.limit("heavy", 2)
for _, n in ipairs{"h1", "h2", "h3", "h4"} do haz.run{"mkfifo", "fifo-" .. n} end
local pairs_met = 0
local waiting = nil
local running, peak = 0, 0
-- Tasks meet two by two: each pair proves that two run at once.
local function heavy(t)
  running = running + 1
  peak = math.max(peak, running)
  if waiting == nil then
    waiting = t.name
    haz.run{"cat", "fifo-" .. t.name, timeout = 10}
  else
    local other = waiting
    waiting = nil
    pairs_met = pairs_met + 1
    haz.run{"sleep", "0.05"}
    haz.run{"sh", "-c", ": > fifo-" .. other, timeout = 10}
  end
  running = running - 1
end
local names = {"h1", "h2", "h3", "h4"}
for _, n in ipairs(names) do haz.task(n, {tags = {"heavy"}, run = heavy}) end
haz.task("default", {deps = names, run = function()
  print(("%d pairs met, at most %d at once"):format(pairs_met, peak)) -- want: [default] 2 pairs met, at most 2 at once
end})

--- every capped tag of a task must admit it
-- flags: -q -j0
haz.limit("cpu", 2)
haz.limit("disk", 1)
local running, peak = 0, 0
local function work()
  running = running + 1
  peak = math.max(peak, running)
  haz.run{"sleep", "0.05"}
  running = running - 1
end
haz.task("a", {tags = {"cpu", "disk"}, run = work})
haz.task("b", {tags = {"cpu", "disk"}, run = work})
haz.task("c", {tags = {"disk", "cpu"}, run = work})
haz.task("default", {deps = {"a", "b", "c"}, run = function() print(peak) end}) -- want: [default] 1

--- a tag without a limit caps nothing
-- flags: -q -j0
-- timeout: 20
for _, n in ipairs{"a", "b", "c"} do haz.run{"mkfifo", "fifo-" .. n} end
local arrived = {}
local function meet(n, name)
  table.insert(arrived, name)
  if #arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 10}
  else
    for i = 1, n - 1 do haz.run{"sh", "-c", ": > fifo-" .. arrived[i], timeout = 10} end
  end
end
for _, n in ipairs{"a", "b", "c"} do haz.task(n, {tags = {"unlimited"}, run = function(t) meet(3, t.name) end}) end
haz.task("default", {deps = {"a", "b", "c"}, run = function() print(#arrived .. " met") end}) -- want: [default] 3 met

--- a task waiting for a mutex holds no task slot
-- flags: -q -j2
-- timeout: 20
-- "holder" takes the mutex and one of the two slots, and waits until
-- "unrelated" has run. "blocked" is ready before "unrelated" but waits
-- for the mutex: if it held the second slot, "unrelated" could not start
-- and the holder's reader would time out.
haz.run{"mkfifo", "f"}
local log = {}
haz.task("holder", {mutex = "m", run = function()
  haz.run{"cat", "f", timeout = 10, stdout = "null"}
  table.insert(log, "holder")
end})
haz.task("blocked", {mutex = "m", run = function() table.insert(log, "blocked") end})
haz.task("unrelated", function()
  haz.run{"sh", "-c", ": > f", timeout = 10}
  table.insert(log, "unrelated")
end)
haz.task("default", {deps = {"holder", "blocked", "unrelated"}, run = function()
  local at = {}
  for i, name in ipairs(log) do at[name] = i end
  print(#log, at.holder < at.blocked) -- want: [default] 3	true
end})

--- a task waiting for a tag cap holds no task slot
-- flags: -q -j2
-- timeout: 20
haz.limit("link", 1)
haz.run{"mkfifo", "f"}
haz.task("holder", {tags = {"link"}, run = function()
  haz.run{"cat", "f", timeout = 10, stdout = "null"}
end})
haz.task("blocked", {tags = {"link"}, run = function() end})
haz.task("unrelated", function()
  haz.run{"sh", "-c", ": > f", timeout = 10}
end)
haz.task("default", {deps = {"holder", "blocked", "unrelated"}, run = function() print("done") end}) -- want: [default] done

--- with -j1, a task's jobs all end before the next task starts
-- flags: -q -j1
-- One slot for tasks, one for jobs: each task's jobs run one at a time,
-- then the next task starts.
local order = {}
for _, n in ipairs{"a", "b"} do
  haz.task(n, function(t)
    haz.parallel(function()
      haz.run{"true"}
      table.insert(order, t.name .. "1")
    end, function()
      haz.run{"true"}
      table.insert(order, t.name .. "2")
    end)
  end)
end
haz.task("default", {deps = {"a", "b"}, run = function() print(#order, order[1]:sub(1, 1), order[3]:sub(1, 1)) end}) -- want: [default] 4	a	b

--- aggregates take no slot
-- flags: -q -j1
haz.task("one", function() print("one") end) -- want: [one] one
haz.task("group", {deps = {"one"}})
haz.task("two", {deps = {"group"}, run = function() print("two") end}) -- want: [two] two
haz.task("default", {deps = {"two"}})
