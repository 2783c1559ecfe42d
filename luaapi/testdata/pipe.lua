-- haz.pipe (SPEC S4): one pipeline in one process group, pipefail
-- semantics, a SIGPIPE'd early stage counts as ok, results, pids.

--- three stages
local p = haz.pipe({"printf", "pear\\napple\\nfig\\n"}, {"sort"}, {"tr", "a-z", "A-Z"})
local r = p:wait()
print(r.ok, r.code, r.name, #r.results) -- want: true	0	tr	3
io.write(r.stdout) -- want: APPLE
-- want: FIG
-- want: PEAR
print(p:stdout() == r.stdout) -- want: true

--- one stage
-- A pipeline of one stage is still a pipeline: its result has results.
local r = haz.pipe({"echo", "alone"}):wait()
print(r.ok, r.stdout) -- want: true	alone
-- want:
print(r.results and #r.results) -- want: 1

--- results, one per stage
local r = haz.pipe({"echo", "x", name = "first"}, {"cat", name = "second"}, {"wc", "-l", name = "third"}):wait()
for i, s in ipairs(r.results) do
  print(i, s.name, s.ok, s.code, type(s.pid), type(s.duration))
end
-- want: 1	first	true	0	number	number
-- want: 2	second	true	0	number	number
-- want: 3	third	true	0	number	number
print(r.results[3].stdout == r.stdout, r.results[1].stdout, r.results[2].stdout) -- want: true	nil	nil

--- pipefail: a failing early stage fails the pipeline
local r = haz.pipe({"sh", "-c", "echo partial; exit 3"}, {"cat"}):wait()
print(r.ok, r.code, r.results[1].code, r.results[2].ok) -- want: false	0	3	true
io.write(r.stdout) -- want: partial

--- a failing last stage fails the pipeline
local r = haz.pipe({"echo", "x"}, {"false"}):wait()
print(r.ok, r.code) -- want: false	1

--- a stage killed by SIGPIPE before the last counts as ok
local r = haz.pipe({"yes"}, {"head", "-n", "1"}):wait()
print(r.ok, r.results[1].signal, r.results[2].ok) -- want: true	pipe	true
io.write(r.stdout) -- want: y

--- a SIGPIPE'd stage in the middle counts as ok too
local r = haz.pipe({"yes"}, {"cat"}, {"head", "-c", "2"}):wait()
io.write(tostring(r.ok), " ", r.stdout) -- want: true y

--- a last stage killed by SIGPIPE is not ok
local r = haz.pipe({"echo", "x"}, {"sh", "-c", "kill -PIPE $$"}):wait()
print(r.ok, r.signal) -- want: false	pipe

--- an early stage killed by another signal is not ok
local r = haz.pipe({"sh", "-c", "kill -TERM $$"}, {"cat"}):wait()
print(r.ok, r.results[1].signal) -- want: false	term

--- pids
local p = haz.pipe({"echo", "a"}, {"cat"}, {"cat"})
local pids = p:pids()
print(#pids, pids[1] == p:pid()) -- want: 3	true
local r = p:wait()
for i, s in ipairs(r.results) do
  print(i, s.pid == pids[i])
end
-- want: 1	true
-- want: 2	true
-- want: 3	true

--- one process group led by the first stage
local stat = "cut -d' ' -f5 /proc/self/stat"
local p = haz.pipe({"sh", "-c", stat}, {"sh", "-c", "cat; " .. stat}, {"sh", "-c", "cat; " .. stat})
for line in p:lines() do
  print(tonumber(line) == p:pid())
end
-- want: true
-- want: true
-- want: true

--- input on the first stage
io.write(haz.pipe({"cat", input = "b\na\n"}, {"sort"}):stdout()) -- want: a
-- want: b

--- stdin process on the first stage
local src = haz.spawn{"printf", "3\\n1\\n2\\n", stdout = "pipe"}
io.write(haz.pipe({"sort", stdin = src}, {"head", "-n", "1"}):stdout()) -- want: 1

--- stdin pipe on the first stage
local p = haz.pipe({"tr", "a-z", "A-Z", stdin = "pipe"}, {"rev"})
p:write("abc\n")
p:close()
io.write(p:stdout()) -- want: CBA

--- stdout of the last stage
haz.pipe({"echo", "to a file"}, {"cat", stdout = {file = "out.txt"}}):wait()
io.write(haz.fs.read("out.txt")) -- want: to a file
haz.pipe({"echo", "inherited"}, {"cat", stdout = "inherit"}):wait() -- want: inherited

--- stderr of each stage
local r = haz.pipe({"sh", "-c", "echo e1 >&2; echo o", stderr = "capture"}, {"sh", "-c", "cat; echo e2 >&2", stderr = "capture"}):wait()
io.write(r.results[1].stderr, r.results[2].stderr, r.stderr, r.stdout) -- want: e1
-- want: e2
-- want: e2
-- want: o

--- stderr inherited from a stage
haz.pipe({"sh", "-c", "echo e1 >&2; echo o"}, {"cat"}):wait()
-- stderr: ^e1\n$

--- stderr stdout on a stage
local r = haz.pipe({"sh", "-c", "echo err >&2", stderr = "stdout"}, {"tr", "a-z", "A-Z"}):wait()
io.write(r.stdout) -- want: ERR

--- lines of a pipeline
local p = haz.pipe({"printf", "b\\na\\nc"}, {"sort"}, {"cat", stdout = "pipe"})
for line in p:lines() do print("line", line) end
-- want: line	a
-- want: line	b
-- want: line	c
print(p:wait().ok) -- want: true

--- lines of a pipeline with capture
local p = haz.pipe({"printf", "2\\n1\\n"}, {"sort"})
for line in p:lines() do print("line", line) end
-- want: line	1
-- want: line	2
io.write(p:stdout()) -- want: 1
-- want: 2

--- a pipeline as another process's stdin
local p = haz.pipe({"printf", "x\\ny\\n"}, {"cat", stdout = "pipe"})
io.write(haz.spawn{"wc", "-l", stdin = p}:stdout()) -- want: 2

--- signal reaches every stage
local p = haz.pipe({"sh", "-c", "echo ready; exec sleep 30"}, {"sh", "-c", "read l; echo $l; exec sleep 30", stdout = "pipe"})
print(p:lines()()) -- want: ready
print(p:signal("term")) -- want: true
local r = p:wait()
print(r.ok, r.results[1].signal, r.results[2].signal) -- want: false	term	term
print(p:signal("term")) -- want: false

--- a timeout on any stage applies to the whole pipeline
local r = haz.pipe({"sleep", "30"}, {"sleep", "30", timeout = 0.1}, {"cat"}):wait()
print(r.ok, r.timed_out, r.results[1].timed_out, r.results[1].signal, r.results[3].timed_out) -- want: false	true	true	term	true

--- grace on any stage applies to the whole pipeline
local p = haz.pipe(
  {"sh", "-c", "trap '' TERM; echo ready; sleep 30", grace = 0.2},
  {"sh", "-c", "trap '' TERM; read l; echo $l; sleep 30", stdout = "pipe", timeout = 1})
print(p:lines()()) -- want: ready
local r = p:wait()
print(r.timed_out, r.results[1].signal, r.results[2].signal, r.duration >= 1.2) -- want: true	kill	kill	true

--- tostring of a pipeline
local p = haz.pipe({"sh", "-c", "echo ready; exec sleep 30"}, {"cat", name = "relay", stdout = "pipe"})
p:lines()()
print((tostring(p):gsub("%d+", "N"))) -- want: haz.pipe(pids=N,N, sh | relay, running)
local pids = p:pids()
print(tostring(p) == ("haz.pipe(pids=%d,%d, sh | relay, running)"):format(pids[1], pids[2])) -- want: true
p:signal("kill")
p:wait()
print((tostring(p):gsub("%d+", "N"))) -- want: haz.pipe(pids=N,N, sh | relay, killed by kill)

--- wait twice on a pipeline
local p = haz.pipe({"echo"}, {"cat"})
print(p:wait() == p:wait()) -- want: true

--- haz.run failure of a pipeline names the failing stage
-- (haz.run takes one spawn table; a pipeline's result is checked by hand.)
local r = haz.pipe({"sh", "-c", "exit 4", name = "gen"}, {"cat"}):wait()
print(r.ok, r.results[1].name, r.results[1].code) -- want: false	gen	4
