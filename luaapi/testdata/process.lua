-- Process methods (SPEC S4): pid, signal, wait, stdout, stderr, lines,
-- write, close, tostring. Signal tests never sleep-then-signal: the child
-- says "ready" on a pipe first.

--- pid
local p = haz.spawn{"sh", "-c", "echo $$"}
local pid = p:pid()
print(math.type and math.type(pid) or type(pid), pid > 1) -- want: number	true
print(tonumber(p:stdout()) == pid, p:wait().pid == pid) -- want: true	true

--- pid is also the process group id
local p = haz.spawn{"sh", "-c", "cut -d' ' -f5 /proc/self/stat"}
print(tonumber(p:stdout()) == p:pid()) -- want: true

--- signal by name
local p = haz.spawn{"sh", "-c", "echo ready; exec sleep 30", stdout = "pipe"}
local lines = p:lines()
print(lines()) -- want: ready
print(p:signal("term")) -- want: true
local r = p:wait()
print(r.ok, r.code, r.signal, r.cancelled, r.timed_out) -- want: false	nil	term	false	false

--- signal names are case-insensitive and may have SIG
local p = haz.spawn{"sh", "-c", "echo ready; exec sleep 30", stdout = "pipe"}
p:lines()()
print(p:signal("SIGUSR1")) -- want: true
print(p:wait().signal) -- want: usr1

--- signal by number
local p = haz.spawn{"sh", "-c", "echo ready; exec sleep 30", stdout = "pipe"}
p:lines()()
print(p:signal(9)) -- want: true
print(p:wait().signal) -- want: kill

--- signal every name
for _, sig in ipairs{"int", "hup", "quit", "usr2"} do
  local p = haz.spawn{"sh", "-c", "echo ready; exec sleep 30", stdout = "pipe"}
  p:lines()()
  p:signal(sig)
  print(sig, p:wait().signal)
end
-- want: int	int
-- want: hup	hup
-- want: quit	quit
-- want: usr2	usr2

--- signal stop and cont
local p = haz.spawn{"sh", "-c", "echo ready; read line; echo got $line", stdin = "pipe", stdout = "pipe"}
local lines = p:lines()
print(lines()) -- want: ready
print(p:signal("stop")) -- want: true
print(p:wait(0.2)) -- want: nil	timeout
print(p:signal("cont")) -- want: true
p:write("x\n")
p:close()
print(lines()) -- want: got x
print(p:wait().ok) -- want: true

--- signal reaches the whole group
-- The grandchild holds the pipe: EOF on it means it is gone too.
local p = haz.spawn{"sh", "-c", "sleep 30 & echo ready; wait", stdout = "pipe"}
local lines = p:lines()
print(lines()) -- want: ready
p:signal("term")
print(lines()) -- want: nil
print(p:wait().signal) -- want: term

--- signal returns false after exit
local p = haz.spawn{"true"}
p:wait()
print(p:signal("term"), p:signal("kill"), p:signal(15)) -- want: false	false	false

--- wait with a timeout
local p = haz.spawn{"sleep", "30"}
print(p:wait(0.1)) -- want: nil	timeout
print(p:wait("50ms")) -- want: nil	timeout
p:signal("kill")
local r = p:wait(30)
print(r.signal) -- want: kill

--- wait with a timeout that is not reached
local r = haz.spawn{"echo", "quick"}:wait(30)
print(r.ok, r.stdout) -- want: true	quick
-- want:

--- wait twice returns the same table
local p = haz.spawn{"echo", "x"}
local r1 = p:wait()
local r2 = p:wait()
print(r1 == r2, r1 == p:wait(5)) -- want: true	true

--- wait drains an untaken pipe
-- More than a pipe's buffer: :wait() must not hang, and keeps the output.
local p = haz.spawn{"head", "-c", "300000", "/dev/zero", stdout = "pipe"}
local r = p:wait()
print(r.ok, #p:stdout()) -- want: true	300000

--- stdout on capture
local p = haz.spawn{"printf", "a\\nb"}
print(p:stdout()) -- want: a
-- want: b
print(p:stdout() == p:wait().stdout) -- want: true

--- stdout is binary safe
local s = haz.spawn{"printf", "a\\000b\\377\\r\\n"}:stdout()
print(#s, s:byte(1, -1)) -- want: 6	97	0	98	255	13	10

--- stdout on a pipe
local p = haz.spawn{"sh", "-c", "echo one; echo two", stdout = "pipe"}
io.write(p:stdout()) -- want: one
-- want: two
print(p:stdout() == "one\ntwo\n") -- want: true
print(p:wait().ok) -- want: true

--- stdout while the process runs
local p = haz.spawn{"sh", "-c", "sleep 0.1; echo late"}
print(p:stdout()) -- want: late
-- want:

--- stderr
local p = haz.spawn{"sh", "-c", "echo oops >&2; exit 1", stderr = "capture"}
print(p:stderr()) -- want: oops
-- want:
print(p:wait().stderr == p:stderr()) -- want: true

--- lines on a pipe
local p = haz.spawn{"printf", "one\\ntwo\\r\\n\\nlast", stdout = "pipe"}
for line in p:lines() do
  print(#line, line:gsub("\r", "<CR>"))
end
-- want: 3	one	0
-- want: 4	two<CR>	1
-- want: 0		0
-- want: 4	last	0
print(p:wait().ok) -- want: true

--- lines on capture streams and keeps everything
local p = haz.spawn{"sh", "-c", "echo a; echo b; printf c"}
local n = 0
for line in p:lines() do
  n = n + 1
  print(n, line)
end
-- want: 1	a
-- want: 2	b
-- want: 3	c
print(p:stdout()) -- want: a
-- want: b
-- want: c

--- lines arrive as they are written
-- The child waits for our answer to each line: lines must stream.
local p = haz.spawn{"sh", "-c", "echo q1; read a; echo got $a; read b; echo got $b", stdin = "pipe", stdout = "pipe"}
local next = p:lines()
print(next()) -- want: q1
p:write("x\n")
print(next()) -- want: got x
p:write("y\n")
print(next()) -- want: got y
print(next()) -- want: nil
print(next()) -- want: nil
p:close()
print(p:wait().ok) -- want: true

--- lines ends with nil after the end
local p = haz.spawn{"true", stdout = "pipe"}
local next = p:lines()
print(next(), next()) -- want: nil	nil

--- write and close
local p = haz.spawn{"wc", "-c", stdin = "pipe"}
print(p:write("12345")) -- want: true
print(p:write("")) -- want: true
print(p:close()) -- want: true
print((p:stdout():gsub("%s", ""))) -- want: 5

--- write a lot while the child writes a lot
-- cat echoes everything back; the capture reads while we write.
local p = haz.spawn{"cat", stdin = "pipe"}
local chunk = string.rep("0123456789abcdef", 4096)
for _ = 1, 16 do
  p:write(chunk)
end
p:close()
print(#p:stdout()) -- want: 1048576

--- write to a process that stopped reading
local p = haz.spawn{"head", "-c", "1", stdin = "pipe"}
local ok, err = p:write(string.rep("x", 1048576))
print(ok, err:match("^broken pipe") ~= nil) -- want: nil	true
print(p:wait().stdout) -- want: x

--- write to a process that exited
-- Its stdin was never closed by the script: like a write to a reader that
-- stopped, this is a broken pipe, not the "error after close".
local p = haz.spawn{"true", stdin = "pipe"}
p:wait()
local ok, err = p:write("x") -- not an error
print(ok, err and err:match("^broken pipe") ~= nil) -- want: nil	true

--- tostring
local p = haz.spawn{"sh", "-c", "echo ready; read x", stdin = "pipe", stdout = "pipe"}
p:lines()()
print((tostring(p):gsub("%d+", "N"))) -- want: haz.process(pid=N, sh, running)
print(tostring(p) == ("haz.process(pid=%d, sh, running)"):format(p:pid())) -- want: true
p:close()
p:wait()
print((tostring(p):gsub("%d+", "N"))) -- want: haz.process(pid=N, sh, exited N)

--- tostring after a signal, a failure and a timeout
local p = haz.spawn{"sh", "-c", "exit 3", name = "build"}
p:wait()
print((tostring(p):gsub("pid=%d+", "pid=N"))) -- want: haz.process(pid=N, build, exited 3)
local p = haz.spawn{"sleep", "30"}
p:signal("kill")
p:wait()
print((tostring(p):gsub("pid=%d+", "pid=N"))) -- want: haz.process(pid=N, sleep, killed by kill)
local p = haz.spawn{"sleep", "30", timeout = 0.1}
p:wait()
print((tostring(p):gsub("pid=%d+", "pid=N"))) -- want: haz.process(pid=N, sleep, timed out)

--- process handles are userdata with a type
local p = haz.spawn{"true"}
print(type(p), getmetatable(p)) -- want: userdata	haz.process

--- methods can be called through a local reference
local p = haz.spawn{"echo", "x"}
local wait = p.wait
print(wait(p).ok) -- want: true
