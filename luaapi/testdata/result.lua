-- The result table of p:wait() (SPEC S4): ok, code, signal, timed_out,
-- cancelled, duration, pid, name, stdout, stderr.

--- success
local p = haz.spawn{"echo", "hi"}
local r = p:wait()
print(r.ok, r.code, r.signal, r.timed_out, r.cancelled) -- want: true	0	nil	false	false
print(r.pid == p:pid(), r.name, r.stdout, r.stderr) -- want: true	echo	hi
-- want: 	nil
print(type(r.duration), r.duration >= 0, r.duration < 30) -- want: number	true	true

--- every field and nothing else
local r = haz.spawn{"sh", "-c", "exit 0", stderr = "capture"}:wait()
local keys = {}
for k in pairs(r) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys, " ")) -- want: cancelled code duration name ok pid stderr stdout timed_out

--- exit code
local r = haz.spawn{"sh", "-c", "exit 7"}:wait()
print(r.ok, r.code, r.signal) -- want: false	7	nil

--- exit code 255
local r = haz.spawn{"sh", "-c", "exit 255"}:wait()
print(r.ok, r.code) -- want: false	255

--- killed by a signal
local r = haz.spawn{"sh", "-c", "kill -SEGV $$"}:wait()
print(r.ok, r.code, r.signal) -- want: false	nil	segv

--- signal names
for _, sig in ipairs{"TERM", "KILL", "PIPE", "ABRT", "USR1", "ALRM", "HUP", "INT"} do
  local r = haz.spawn{"sh", "-c", "kill -" .. sig .. " $$"}:wait()
  io.write(r.signal, ";")
end
print() -- want: term;kill;pipe;abrt;usr1;alrm;hup;int;

--- timed out
local r = haz.spawn{"sleep", "30", timeout = 0.1}:wait()
print(r.ok, r.timed_out, r.cancelled, r.signal, r.code) -- want: false	true	false	term	nil
print(r.duration >= 0.1, r.duration < 10) -- want: true	true

--- timed out but exited with a code
-- The child handles SIGTERM and exits 0: still not ok.
local p = haz.spawn{"sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done", stdout = "pipe", stderr = "null", timeout = 0.5}
p:lines()()
local r = p:wait()
print(r.ok, r.timed_out, r.code, r.signal) -- want: false	true	0	nil

--- cancelled by a haz.parallel sibling
local p
local ok, err = pcall(haz.parallel, function()
  p = haz.spawn{"sleep", "30"}
  p:wait()
end, function()
  haz.sleep(0.1)
  error("sibling failed")
end)
print(ok, err) -- want: false	build.lua:7: sibling failed
local r = p:wait()
print(r.ok, r.cancelled, r.timed_out, r.signal) -- want: false	true	false	term

--- duration
local r = haz.spawn{"sleep", "0.2"}:wait()
print(r.duration >= 0.2, r.duration < 10) -- want: true	true

--- name is the base name of the program by default
print(haz.spawn{"/bin/sh", "-c", "true"}:wait().name) -- want: sh
print(haz.spawn{"sh", "-c", "true", name = "setup"}:wait().name) -- want: setup

--- stdout and stderr only when captured
local r = haz.spawn{"sh", "-c", "echo o; echo e >&2", stdout = "null", stderr = "null"}:wait()
print(r.stdout, r.stderr) -- want: nil	nil
local r = haz.spawn{"sh", "-c", "printf ''", stderr = "capture"}:wait()
print(r.stdout == "", r.stderr == "") -- want: true	true

--- result of a pipe stdout after draining
local p = haz.spawn{"echo", "drained", stdout = "pipe"}
print(p:wait().stdout) -- want: drained
-- want:
