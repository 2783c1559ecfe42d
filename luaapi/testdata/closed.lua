-- Handles used after their end or from two threads: a p:lines() iterator
-- after p:wait(), io.popen files after close, process methods after the
-- process ended. Each gives the rest of the data, nil, or a clear error,
-- never a Go error such as "read |0: file already closed".

--- a lines iterator called after p:wait() returns the rest, then nil
-- 100000 lines fill the pipe: the child blocks until the wait keeps the rest.
local p = haz.spawn{"sh", "-c", "echo first; seq 1 100000", stdout = "pipe"}
local next = p:lines()
print(next()) -- want: first
local r = p:wait()
print(r.ok, r.stdout) -- want: true	nil
local n, last = 0, nil
for line in next do n, last = n + 1, line end
print(n, last) -- want: 100000	100000
print(next()) -- want: nil

--- an iterator taken before p:wait() and first called after it
local p = haz.spawn{"seq", "1", "100000", stdout = "pipe"}
local next = p:lines()
print(p:wait().ok) -- want: true
local n = 0
for _ in next do n = n + 1 end
print(n) -- want: 100000

--- a loop left with break, then p:wait(): the iterator goes on where it stopped
local p = haz.spawn{"seq", "1", "200000", stdout = "pipe"}
local next = p:lines()
for line in next do
  if line == "3" then break end
end
print(p:wait().ok) -- want: true
print(next()) -- want: 4
local n = 0
for _ in next do n = n + 1 end
print(n) -- want: 199996

--- a wait with a timeout leaves the pipe to the iterator
local p = haz.spawn{"sh", "-c", "echo one; read x; echo two", stdin = "pipe", stdout = "pipe"}
local next = p:lines()
print(next()) -- want: one
print(p:wait(0.05)) -- want: nil	timeout
p:write("x\n")
p:close()
print(next(), next()) -- want: two	nil
print(p:wait().ok) -- want: true

--- a pipe kept by p:wait() is still taken: p:stdout() raises
local p = haz.spawn{"echo", "x", stdout = "pipe"}
local next = p:lines()
p:wait()
p:stdout() -- error: ^haz\.process:stdout: the stdout pipe of haz\.process\(pid=\d+, echo, exited 0\) is already taken

--- a pipe kept by p:wait() is still taken: stdin = p raises
local p = haz.spawn{"echo", "x", stdout = "pipe"}
local next = p:lines()
p:wait()
haz.spawn{"cat", stdin = p} -- error: ^haz\.spawn: stdin process haz\.process\(pid=\d+, echo, exited 0\): its stdout pipe is already taken$

--- one lines iterator called from two threads at once raises in the second
-- timeout: 10
local p = haz.spawn{"sh", "-c", "read x; echo $x", stdin = "pipe", stdout = "pipe"}
local next = p:lines()
local waiting = false
print(haz.parallel(function()
  waiting = true
  return next()
end, function()
  while not waiting do haz.sleep(0.01) end
  local ok, err = pcall(next)
  p:write("line\n")
  p:close()
  return err
end))
-- want: line	build.lua:10: haz.process:lines: the iterator is already waiting for a line in another thread
print(next()) -- want: nil

--- process methods after the end
local p = haz.spawn{"echo", "out", stdin = "pipe", stdout = "pipe"}
print(p:wait().ok) -- want: true
print(p:stdout()) -- want: out
-- want:
for line in p:lines() do print(line) end -- want: out
print(p:signal("term")) -- want: false
local ok, err = p:write("x")
print(ok, (err:gsub("%d+", "N"))) -- want: nil	broken pipe: haz.process(pid=N, echo, exited N) has ended
print(p:close()) -- want: true
print(p:wait() == p:wait(), #p:pids()) -- want: true	1
p:close() -- error: ^haz\.process:close: stdin of haz\.process\(pid=\d+, echo, exited 0\) is already closed$

--- io.popen lines after close raise
local f = io.popen("echo a; echo b")
local next = f:lines()
print(next()) -- want: a
f:close()
print(pcall(next)) -- want: false	build.lua:5: file:lines: file is closed
print(pcall(f.lines, f)) -- want: false	build.lua:6: file:lines: file is not open for reading

--- io.popen write after the child ended gives nil and a message
-- More than a pipe holds: the write waits until the child has exited.
local f = io.popen("exit 0", "w")
local ok, err = f:write(string.rep("x", 1048576))
print(ok, err:match("^broken pipe: haz%.process%(pid=%d+, sh, [%w ]+%) stopped reading$") ~= nil) -- want: nil	true
print(f:close()) -- want: true	exit	0

--- io.popen read from two threads at once raises in the second
-- timeout: 10
haz.run{"mkfifo", "f"}
local f = io.popen("exec cat f") -- exec: no grandchild outlives a hang
local reading = false
print(haz.parallel(function()
  reading = true
  return f:read("a")
end, function()
  while not reading do haz.sleep(0.01) end
  local ok, err = pcall(f.read, f)
  haz.run{"sh", "-c", "echo through the fifo > f", timeout = 10}
  return err
end))
-- want: through the fifo
-- want: 	build.lua:10: file:read: the file is already being read in another thread
print(f:close()) -- want: true	exit	0

--- io.popen closed while another thread reads it
-- timeout: 10
-- The child writes until its pipe is closed, then dies of SIGPIPE.
local f = io.popen("while :; do echo x; sleep 0.01; done")
local reading = false
print(haz.parallel(function()
  reading = true
  local ok, err = pcall(f.read, f, "a")
  return err
end, function()
  while not reading do haz.sleep(0.01) end
  return (select(2, f:close()))
end))
-- want: build.lua:7: file:read: file was closed while reading	signal
