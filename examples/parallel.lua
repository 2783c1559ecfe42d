-- parallel.lua: fan out independent jobs with haz.parallel, within -j.
--
-- Shows haz.parallel (each function runs on its own Lua thread; results
-- come back in argument order, whatever order the jobs finish in), the job
-- cap (-j N: at most N processes of parallel branches at once), and
-- haz.sleep, which blocks only its own branch.
--
-- Run it from the repository root, with two jobs at a time:
--
--	hazlua -j2 examples/parallel.lua
--
-- The task: run a test suite split into four shards. Each shard is a
-- stand-in (a shell that sleeps); it reports when it started and ended, so
-- the script can show how many shards overlapped.

local shards = {"unit", "integration", "e2e", "lint"}

-- A wall clock with sub-second precision, which plain Lua lacks.
local clock = "date +%s.%N"

local function shard(name, i)
  return function()
    local script = ("%s; sleep 0.4; echo %s: %d tests passed; %s"):format(clock, name, 10 * i, clock)
    local out = haz.output{"sh", "-c", script, name = "shard-" .. name}
    local started, report, ended = out:match("^(%S+)\n(.-)\n(%S+)$")
    return {name = name, report = report, started = tonumber(started), ended = tonumber(ended)}
  end
end

local fns = {}
for i, name in ipairs(shards) do
  fns[i] = shard(name, i)
end
local results = {haz.parallel(fns)}

-- In argument order, not finishing order.
for _, r in ipairs(results) do
  print(r.report)
end

-- The most shards running at one moment: with -jN, never more than N.
local peak = 0
for _, a in ipairs(results) do
  local running = 0
  for _, b in ipairs(results) do
    if b.started <= a.started and a.started < b.ended then
      running = running + 1
    end
  end
  peak = math.max(peak, running)
end
local cap = haz.jobs == 0 and #shards or math.min(haz.jobs, #shards)
print(("%d shards, at most %d at a time (-j%d): %s"):format(#shards, peak, haz.jobs,
  peak == cap and "as expected" or "unexpected"))

-- haz.sleep blocks only its branch: the other branch keeps working
-- meanwhile.
local checks = 0
haz.parallel(function()
  haz.sleep(0.5)
  print(("while one branch slept, the other ran %d checks"):format(checks))
end, function()
  for _ = 1, 3 do
    haz.run{"true"}
    checks = checks + 1
  end
end)
