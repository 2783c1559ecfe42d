-- haz.spawn: both forms and every key of the spawn table (SPEC S4).
-- Chunks are separated by "---" lines; see script_test.go for the format.

--- list form
local p = haz.spawn{"echo", "hello", "world"}
print(p:stdout()) -- want: hello world
-- want:
print(p:wait().ok) -- want: true

--- program and args
local r = haz.spawn{program = "printf", args = {"%s|", "a b", "", 42, 1.5}}:wait()
print(r.stdout) -- want: a b||42|1.5|

--- program alone
print(haz.spawn{program = "true"}:wait().code) -- want: 0

--- list form numbers converted
print(haz.spawn{"echo", 1, 2.5}:stdout()) -- want: 1 2.5
-- want:

--- program is a path
print(haz.spawn{"/bin/echo", "abs"}:wait().stdout) -- want: abs
-- want:

--- relative program path is relative to cwd
haz.fs.mkdir("tools")
haz.fs.write("tools/hello.sh", "#!/bin/sh\necho hello from \"$(basename \"$PWD\")\"\n")
haz.run{"chmod", "+x", "tools/hello.sh"}
print(haz.output{"./hello.sh", cwd = "tools"}) -- want: hello from tools
print(haz.output{"tools/hello.sh"} == "hello from " .. haz.path.base(haz.root)) -- want: true

--- relative program path with cwd is not looked up from the root
haz.fs.mkdir("sub")
haz.fs.write("hello.sh", "#!/bin/sh\necho root\n")
haz.run{"chmod", "+x", "hello.sh"}
haz.spawn{"./hello.sh", cwd = "sub"} -- error: haz.spawn: program "\./hello\.sh"

--- env is merged over hazlua's environment
local out = haz.output{"sh", "-c", 'echo "$HAZLUA_TEST_VAR $FOO $N"', env = {FOO = "bar", N = 7}}
print(out) -- want: inherited bar 7

--- env false removes a variable
local out = haz.output{"sh", "-c", 'echo "${HAZLUA_TEST_VAR-unset}"', env = {HAZLUA_TEST_VAR = false}}
print(out) -- want: unset
print(haz.env.HAZLUA_TEST_VAR) -- want: inherited

--- env overrides an inherited value
print(haz.output{"sh", "-c", 'echo "$HAZLUA_TEST_VAR"', env = {HAZLUA_TEST_VAR = "over"}}) -- want: over

--- haz.env changes are inherited
haz.env.HAZ_SET_HERE = "yes"
print(haz.output{"sh", "-c", 'echo "$HAZ_SET_HERE"'}) -- want: yes
haz.env.HAZ_SET_HERE = nil
print(haz.output{"sh", "-c", 'echo "${HAZ_SET_HERE-gone}"'}) -- want: gone

--- clear_env starts empty
print(haz.output{"env", clear_env = true}) -- want:
print(haz.output{"env", clear_env = true, env = {A = "1"}}) -- want: A=1

--- clear_env looks programs up in the default PATH
-- No PATH in the child's environment, yet "printenv" is found in
-- /usr/local/bin:/usr/bin:/bin.
local r = haz.run{"printenv", "PATH", clear_env = true, check = false}
print(r.code) -- want: 1

--- clear_env with a PATH in env uses it for the lookup
haz.fs.mkdir("bin")
haz.fs.write("bin/mytool", "#!/bin/sh\necho mytool ran\n")
haz.run{"chmod", "+x", "bin/mytool"}
print(haz.output{"mytool", clear_env = true, env = {PATH = haz.root .. "/bin"}}) -- want: mytool ran
haz.spawn{"mytool", clear_env = true} -- error: haz.spawn: program "mytool" not found

--- cwd is relative to the root
haz.fs.mkdir("a/b")
print(haz.path.base(haz.output{"pwd", cwd = "a/b"})) -- want: b
print(haz.output{"pwd", cwd = "a/b"} == haz.root .. "/a/b") -- want: true
print(haz.output{"pwd"} == haz.root) -- want: true

--- stdin null by default
print(haz.spawn{"cat"}:stdout() == "") -- want: true
print(haz.spawn{"cat", stdin = "null"}:stdout() == "") -- want: true

--- stdin inherit
-- stdin: from the test
print(haz.output{"cat", stdin = "inherit"}) -- want: from the test

--- stdin pipe
local p = haz.spawn{"tr", "a-z", "A-Z", stdin = "pipe"}
p:write("hello ")
p:write("pipe\n")
p:close()
print(p:stdout()) -- want: HELLO PIPE
-- want:

--- stdin is another process
local producer = haz.spawn{"printf", "b\\na\\nc\\n", stdout = "pipe"}
local consumer = haz.spawn{"sort", stdin = producer}
print(consumer:stdout()) -- want: a
-- want: b
-- want: c
-- want:
print(producer:wait().ok, consumer:wait().ok) -- want: true	true

--- stdin file
haz.fs.write("in.txt", "line one\nline two\n")
print(haz.output{"wc", "-l", stdin = {file = "in.txt"}}) -- want: 2

--- stdin file missing
haz.spawn{"cat", stdin = {file = "missing.txt"}} -- error: ^haz\.spawn: .*no such file or directory

--- stdout file in a missing directory
haz.spawn{"echo", stdout = {file = "no/such/dir/out.txt"}} -- error: ^haz\.spawn: .*no such file or directory

--- a program the kernel cannot execute
haz.fs.write("noshebang", "echo hi\n")
haz.run{"chmod", "+x", "noshebang"}
haz.spawn{"./noshebang"} -- error: ^haz\.spawn: .*exec format error

--- a failed start frees its job slot
-- flags: -j1
-- timeout: 5
print(haz.parallel(function()
  pcall(haz.spawn, {"cat", stdin = {file = "missing.txt"}})
  return haz.output{"echo", "started after a failed start"}
end)) -- want: started after a failed start

--- input
print(haz.output{"cat", input = "given\nas input"}) -- want: given
-- want: as input
print(haz.output{"wc", "-c", input = ""}) -- want: 0

--- stdout capture is the default
local r = haz.spawn{"echo", "captured"}:wait()
print(r.stdout) -- want: captured
-- want:

--- stdout inherit
io.write("before ")
haz.spawn{"echo", "inherited", stdout = "inherit"}:wait()
print("after") -- want: before inherited
-- want: after

--- stdout null
local r = haz.spawn{"echo", "gone", stdout = "null"}:wait()
print(r.ok, r.stdout) -- want: true	nil

--- stdout pipe
local p = haz.spawn{"echo", "piped", stdout = "pipe"}
print(p:stdout()) -- want: piped
-- want:

--- stdout file truncates
haz.fs.write("out.txt", "old content that is long\n")
local r = haz.spawn{"echo", "new", stdout = {file = "out.txt"}}:wait()
print(r.stdout, haz.fs.read("out.txt")) -- want: nil	new
-- want:

--- stdout file append
haz.spawn{"echo", "one", stdout = {file = "log.txt", append = true}}:wait()
haz.spawn{"echo", "two", stdout = {file = "log.txt", append = true}}:wait()
io.write(haz.fs.read("log.txt")) -- want: one
-- want: two
haz.spawn{"echo", "three", stdout = {file = "log.txt", append = false}}:wait()
io.write(haz.fs.read("log.txt")) -- want: three

--- stdout file relative to the root, not cwd
haz.fs.mkdir("sub")
haz.spawn{"pwd", cwd = "sub", stdout = {file = "where.txt"}}:wait()
print(haz.fs.exists("where.txt"), haz.fs.exists("sub/where.txt")) -- want: true	false

--- stderr inherit is the default
local r = haz.spawn{"sh", "-c", "echo to-stderr >&2"}:wait()
print(r.ok, r.stderr) -- want: true	nil
-- stderr: ^to-stderr\n$

--- stderr capture
local r = haz.spawn{"sh", "-c", "echo out; echo err >&2", stderr = "capture"}:wait()
io.write(r.stdout, r.stderr) -- want: out
-- want: err

--- stderr null
local r = haz.spawn{"sh", "-c", "echo err >&2", stderr = "null"}:wait()
print(r.ok, r.stderr) -- want: true	nil

--- stderr stdout
local r = haz.spawn{"sh", "-c", "echo 1; echo 2 >&2; echo 3", stderr = "stdout"}:wait()
io.write(r.stdout) -- want: 1
-- want: 2
-- want: 3
print(r.stderr) -- want: nil

--- stderr file
haz.spawn{"sh", "-c", "echo e1 >&2", stderr = {file = "err.txt"}}:wait()
haz.spawn{"sh", "-c", "echo e2 >&2", stderr = {file = "err.txt", append = true}}:wait()
io.write(haz.fs.read("err.txt")) -- want: e1
-- want: e2

--- timeout
local r = haz.spawn{"sleep", "30", timeout = 0.2}:wait()
print(r.ok, r.timed_out, r.cancelled, r.signal, r.code) -- want: false	true	false	term	nil

--- timeout as a duration string
local r = haz.spawn{"sleep", "30", timeout = "200ms"}:wait()
print(r.ok, r.timed_out, r.signal) -- want: false	true	term

--- timeout not reached
local r = haz.spawn{"true", timeout = 30}:wait()
print(r.ok, r.timed_out) -- want: true	false

--- grace then kill
-- The child ignores SIGTERM (after saying so); after the grace period it
-- gets SIGKILL.
local p = haz.spawn{"sh", "-c", "trap '' TERM; echo ready; sleep 30", stdout = "pipe", timeout = 1, grace = 0.3}
print(p:lines()()) -- want: ready
local r = p:wait()
print(r.timed_out, r.signal, r.duration >= 1.3) -- want: true	kill	true

--- job false
print(haz.spawn{"echo", "ok", job = false}:wait().stdout) -- want: ok
-- want:

--- job false helper under -j1 does not hold the only slot
-- flags: -j1
local out = haz.parallel(function()
  local helper = haz.spawn{"cat", stdin = "pipe", stdout = "pipe", job = false}
  local v = haz.output{"echo", "while the helper runs"}
  helper:write(v)
  helper:close()
  return helper:stdout()
end)
print(out) -- want: while the helper runs

--- name
local p = haz.spawn{"sh", "-c", "exit 0", name = "compile"}
local r = p:wait()
print(r.name, tostring(p):match("compile")) -- want: compile	compile
print(haz.spawn{"/bin/echo"}:wait().name) -- want: echo

--- name in errors
haz.run{"sh", "-c", "exit 3", name = "linker"} -- error: ^haz\.run: "linker" exited with status 3$
