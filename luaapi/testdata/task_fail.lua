-- Failure and cancellation of tasks (SPEC S6) and the summary (S7): a
-- failure exits 1; the summary names the failed task, the file:line where
-- the error was raised, the last lines of its output, the tasks that did
-- not run and why, then the totals; -q keeps only the error. The default
-- policy, -k and --fail-fast; task timeouts; processes left running by a
-- task body.

--- a successful run ends with the totals
-- stderr: ^hazlua: 2 succeeded in [0-9.]+s\n$
haz.task("a", function() end)
haz.task("default", {deps = {"a"}, run = function() print("ok") end}) -- want: [default] ok

--- a failure exits 1 and the summary names it with its file:line and last lines
-- exit: 1
-- stderr: ^\[default\] main\.c:3: error: expected ';'\nhazlua: task default failed: build\.lua:5: haz\.run: "cc" exited with status 1\n  \| compiling main\.c\n  \| main\.c:3: error: expected ';'\nhazlua: 0 succeeded, 1 failed in [0-9.]+s\n$
haz.task("default", function()
  print("compiling main.c") -- want: [default] compiling main.c
  haz.run{"sh", "-c", "echo \"main.c:3: error: expected ';'\" >&2; exit 1", name = "cc"}
  print("not reached")
end)

--- the summary keeps the last ten lines of output
-- exit: 1
-- stderr: (?s)^hazlua: task default failed: build\.lua:5: haz\.run: "sh" exited with status 2\n  \| line 6\n  \| line 7\n.*  \| line 15\nhazlua: 0 succeeded, 1 failed in [0-9.]+s\n$
haz.task("default", function()
  haz.run{"sh", "-c", "seq 1 15 | sed 's/^/line /'"}
  haz.run{"sh", "-c", "exit 2"}
end)
-- want: [default] line 1
-- want: [default] line 2
-- want: [default] line 3
-- want: [default] line 4
-- want: [default] line 5
-- want: [default] line 6
-- want: [default] line 7
-- want: [default] line 8
-- want: [default] line 9
-- want: [default] line 10
-- want: [default] line 11
-- want: [default] line 12
-- want: [default] line 13
-- want: [default] line 14
-- want: [default] line 15

--- an error keeps the file:line where it was raised
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:5: bad input\nhazlua: 0 succeeded, 1 failed in [0-9.]+s\n$
local function check(x)
  if x ~= 1 then
    error("bad input")
  end
end
haz.task("default", function()
  check(1)
  check(2)
end)

--- an error inside pcall'd and rethrown code keeps its position
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:6: deep\n
haz.task("default", function()
  local ok, err = pcall(function()
    local t = {}
    error("deep")
  end)
  error(err, 0)
end)

--- an error in a haz.parallel branch of a task keeps the branch's position
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:8: haz\.run: "step" exited with status 4\n
haz.task("default", function()
  haz.parallel(function()
    haz.sleep(30)
  end, function()
    haz.run{"true"}
    haz.run{"sh", "-c", "exit 4", name = "step"}
  end)
end)

--- an error without a position names where the task was declared
-- exit: 1
-- stderr: ^hazlua: task default failed: no position here \(task at build\.lua:3\)\n
haz.task("default", function() error("no position here", 0) end)

--- an error value with __tostring
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:4: custom error\n|^hazlua: task default failed: custom error \(task at build\.lua:4\)\n
haz.task("default", function()
  error(setmetatable({}, {__tostring = function() return "build.lua:4: custom error" end}))
end)

--- an error value that is not a string
-- exit: 1
-- stderr: ^hazlua: task default failed: error object is a table value \(task at build\.lua:3\)\n
haz.task("default", function() error({code = 1}) end)

--- -q prints no summary but still the error
-- flags: -q
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:6: boom\n$
haz.task("ok", function() print("ok ran") end) -- want: [ok] ok ran
haz.task("default", {deps = {"ok"}, run = function()
  error("boom")
end})

--- -q with a timeout
-- flags: -q
-- exit: 1
-- stderr: ^hazlua: task default timed out
haz.task("default", {timeout = 0.2, run = function() haz.sleep(30) end})

--- a dependency's failure: the dependents say which task failed
-- flags: -j1
-- exit: 1
-- stderr: ^hazlua: task gen failed: build\.lua:5: gen broke\nhazlua: task compile not run \(dependency gen failed\)\nhazlua: task link not run \(dependency gen failed\)\nhazlua: task default not run \(dependency gen failed\)\nhazlua: 0 succeeded, 1 failed, 3 not run in [0-9.]+s\n$
haz.task("gen", function()
  error("gen broke")
end)
haz.task("compile", {deps = {"gen"}, run = function() print("not run") end})
haz.task("link", {deps = {"compile"}, run = function() print("not run") end})
haz.task("default", {deps = {"link"}})

--- default policy: running tasks finish, nothing new starts
-- flags: -j2
-- exit: 1
-- stderr: ^hazlua: task bad failed: build\.lua:15: broken\nhazlua: task later not run \(stopped after bad failed\)\nhazlua: task default not run \(dependency bad failed\)\nhazlua: 1 succeeded, 1 failed, 2 not run in [0-9.]+s\n$
-- "slow" goes on only once "bad" has failed, and waits a moment more so
-- that a wrongly started "later" would be seen.
local failed = false
haz.task("slow", function()
  while not failed do haz.sleep(0.01) end
  haz.sleep(0.2)
  haz.run{"true"}
  print("slow finished") -- want: [slow] slow finished
end)
haz.task("bad", function()
  failed = true
  error("broken")
end)
haz.task("later", function() print("later ran") end)
haz.task("default", {deps = {"slow", "bad", "later"}})

--- --fail-fast cancels the running tasks
-- flags: -j4 --fail-fast
-- exit: 1
-- stderr: ^\[slow\] slow started\nhazlua: task slow cancelled \(fail-fast after bad\)\n  build\.lua:8: haz\.run: cancelled .*\n  \| slow started\nhazlua: task bad failed: build\.lua:13: broken\nhazlua: task later not run \(stopped after bad failed\)\nhazlua: task default not run \(dependency bad failed\)\nhazlua: 0 succeeded, 1 failed, 1 cancelled, 2 not run in [0-9.]+s\n$
local started = false
haz.task("slow", function()
  started = true
  io.stderr:write("slow started\n")
  haz.run{"sleep", "30"}
  print("not reached")
end)
haz.task("bad", function()
  while not started do haz.sleep(0.01) end
  error("broken")
end)
haz.task("later", {deps = {"slow"}, run = function() print("later ran") end})
haz.task("default", {deps = {"slow", "bad", "later"}})

--- -k runs what does not depend on the failure; dependents name the root
-- flags: -k -j1
-- exit: 1
-- stderr: ^hazlua: task bad failed: build\.lua:4: broken\nhazlua: task mid not run \(dependency bad failed\)\nhazlua: task top not run \(dependency bad failed\)\nhazlua: task default not run \(dependency bad failed\)\nhazlua: 2 succeeded, 1 failed, 3 not run in [0-9.]+s\n$
haz.task("bad", function() error("broken") end)
haz.task("mid", {deps = {"bad"}, run = function() print("mid ran") end})
haz.task("top", {deps = {"mid"}, run = function() print("top ran") end})
haz.task("indep", function() print("indep ran") end) -- want: [indep] indep ran
haz.task("after", {deps = {"indep"}, run = function() print("after ran") end}) -- want: [after] after ran
haz.task("default", {deps = {"top", "after"}})

--- -k with two failures: each dependent names its own root
-- flags: -k -j1
-- exit: 1
-- stderr: ^hazlua: task bad1 failed: build\.lua:4: one\nhazlua: task bad2 failed: build\.lua:5: two\nhazlua: task use1 not run \(dependency bad1 failed\)\nhazlua: task use2 not run \(dependency bad2 failed\)\nhazlua: task both not run \(dependency bad2 failed\)\nhazlua: task default not run \(dependency bad1 failed\)\nhazlua: 1 succeeded, 2 failed, 4 not run in [0-9.]+s\n$
haz.task("bad1", function() error("one") end)
haz.task("bad2", function() error("two") end)
haz.task("use1", {deps = {"bad1"}, run = function() end})
haz.task("use2", {deps = {"bad2"}, run = function() end})
haz.task("both", {deps = {"bad2", "bad1"}, run = function() end})
haz.task("fine", function() print("fine") end) -- want: [fine] fine
haz.task("default", {deps = {"use1", "use2", "both", "fine"}, run = function() end})

--- many tasks not run are counted after twenty
-- flags: -j1
-- exit: 1
-- stderr: (?s)^hazlua: task bad failed: build\.lua:4: broken\n(hazlua: task t[0-9]+ not run \(dependency bad failed\)\n){20}hazlua: \.\.\. and 11 more not run\nhazlua: 0 succeeded, 1 failed, 31 not run in
haz.task("bad", function() error("broken") end)
local names = {}
for i = 1, 30 do
  names[i] = "t" .. i
  haz.task(names[i], {deps = {"bad"}, run = function() end})
end
haz.task("default", {deps = names})

--- a task's timeout fails it as "timed out"
-- exit: 1
-- stderr: ^\[default\] started\nhazlua: task default timed out after 300ms\n(  .*\n)*hazlua: 0 succeeded, 1 timed out in [0-9.]+s\n$
haz.task("default", {timeout = 0.3, run = function(t)
  t:log("started")
  haz.run{"sleep", "30"}
end})

--- a timeout stops a busy loop
-- exit: 1
-- stderr: ^hazlua: task default timed out after 200ms\n
haz.task("default", {timeout = "200ms", run = function() while true do end end})

--- a timed-out task's dependents do not run
-- exit: 1
-- stderr: (?s)hazlua: task slow timed out after 200ms\n.*hazlua: task default not run \(dependency slow failed\)\n
haz.task("slow", {timeout = 0.2, run = function() haz.sleep(30) end})
haz.task("default", {deps = {"slow"}, run = function() print("not run") end})

--- a timeout that is not reached changes nothing
-- flags: -q
haz.task("default", {timeout = 30, run = function() haz.run{"true"} print("done") end}) -- want: [default] done

--- a process left running is terminated when its task ends; the task succeeds
-- flags: -q -j1
local left
haz.task("spawner", function()
  left = haz.spawn{"sleep", "30"}
  print("spawned") -- want: [spawner] spawned
end)
haz.task("default", {deps = {"spawner"}, run = function()
  local r, err = left:wait(10)
  print(r and r.cancelled, r and r.signal, err) -- want: [default] true	term	nil
end})

--- a process that ignores SIGTERM is killed after the grace period
-- flags: -q -j1 --grace 0.2
local left
haz.task("spawner", function()
  left = haz.spawn{"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done", stdout = "pipe"}
  assert(left:lines()() == "ready")
end)
haz.task("default", {deps = {"spawner"}, run = function()
  local r, err = left:wait(10)
  print(r and r.cancelled, r and r.signal, err) -- want: [default] true	kill	nil
end})

--- a job = false helper is terminated when its task ends too
-- flags: -q -j1
local left
haz.task("spawner", function()
  left = haz.spawn{"sleep", "30", job = false}
end)
haz.task("default", {deps = {"spawner"}, run = function()
  local r = left:wait(10)
  print(r and r.signal) -- want: [default] term
end})

--- a process left running by a failed task: the task still failed
-- flags: -k -j1
-- exit: 1
-- stderr: ^hazlua: task spawner failed: build\.lua:7: after spawning\nhazlua: task default not run \(dependency spawner failed\)\nhazlua: 1 succeeded, 1 failed, 1 not run in [0-9.]+s\n$
local left
haz.task("spawner", function()
  left = haz.spawn{"sleep", "30"}
  error("after spawning")
end)
haz.task("checker", function()
  local r, err = left:wait(10)
  print(r and r.signal, err) -- want: [checker] term	nil
end)
haz.task("default", {deps = {"spawner", "checker"}})

--- the processes of the top level live on while tasks run
-- flags: -q
local server = haz.spawn{"sleep", "30"}
haz.task("default", function()
  print(tostring(server):match("running")) -- want: [default] running
end)

--- os.exit in a task ends the run with its code
-- flags: -q
-- exit: 3
haz.task("default", function()
  print("exiting") -- want: [default] exiting
  os.exit(3)
  print("not reached")
end)
