-- The standard library routed through hazlua (SPEC S3): os.execute,
-- io.popen, os.exit, print and io.write. Expected output: stdlib.golden.

--- os.execute returns the exit code
print(os.execute("true"))
print(os.execute("exit 3"))
print(os.execute("exit 255"))

--- os.execute returns 128+n when killed by signal n
print(os.execute("kill -KILL $$"))
print(os.execute("kill -TERM $$"))
print(os.execute("kill -SEGV $$"))

--- os.execute without a command says a shell is available
print(os.execute() ~= 0)

--- os.execute output goes to hazlua's stdout and stderr
io.write("[")
os.execute("printf 'out'; echo err >&2")
print("]")
-- stderr: ^err\n$

--- os.execute stdin is null
-- stdin: hazlua's stdin is not given to os.execute
print(os.execute("cat; echo cat saw EOF"))

--- os.execute runs in its own process group
os.execute("[ \"$(cut -d' ' -f5 /proc/self/stat)\" = \"$(cut -d' ' -f5 /proc/$$/stat)\" ] && [ \"$(cut -d' ' -f5 /proc/$$/stat)\" = $$ ] && echo own group")

--- io.popen read formats
local f = io.popen("printf '12 34.5\\nline two\\nrest\\nof it'")
print(f:read("n"))
print(f:read("*n"))
print(("%q"):format(f:read("l")))
print(f:read(4))
print(("%q"):format(f:read("L")))
print(("%q"):format(f:read("a")))
print(("%q"):format(f:read("*a")))
print(f:read("l"), f:read(1), f:read(0))
print(f:close())

--- io.popen read with several formats
local f = io.popen("printf 'a\\nb\\nc'")
print(f:read("l", "l", "l", "l"))
f:close()

--- io.popen read default is a line
local f = io.popen("printf 'first\\nsecond\\n'")
print(f:read())
print(f:read("*l"))
print(f:read())
f:close()

--- io.popen read a number that is not there
local f = io.popen("echo abc")
print(f:read("n"))
f:close()

--- io.popen read a count
local f = io.popen("printf 0123456789")
print(f:read(3), f:read(0), f:read(100), f:read(1))
f:close()

--- io.popen read is binary safe
local f = io.popen("printf 'a\\000b\\r\\n'")
local s = f:read("a")
print(#s, s:byte(1, -1))
f:close()

--- io.popen lines
local f = io.popen("printf 'one\\ntwo\\r\\nthree'")
for line in f:lines() do
  print("line", (line:gsub("\r", "<CR>")))
end
print(f:close())

--- io.popen lines in a for loop without close
for line in io.popen("seq 3"):lines() do
  io.write(line, ";")
end
print()

--- io.popen write mode
local f = io.popen("tr a-z A-Z", "w")
print(f:write("hello", " ", "popen\n") == f)
f:write(1, 2, "\n")
print(f:close())

--- io.popen write mode output goes to stdout after close
local f = io.popen("sort", "w")
f:write("b\n", "a\n")
io.write("before close\n")
f:close()

--- io.popen close results
print(io.popen("true"):close())
print(io.popen("exit 3"):close())
local f = io.popen("kill -TERM $$")
print(("%q"):format(f:read("a")))
print(f:close())
print(io.popen("exit 2", "w"):close())

--- io.popen stderr goes to hazlua's stderr
local f = io.popen("echo to stderr >&2; echo to pipe")
print(f:read("a"))
f:close()
-- stderr: ^to stderr\n$

--- io.popen runs in its own process group
local f = io.popen("echo $$; cut -d' ' -f5 /proc/self/stat")
local pid, pgid = f:read("n", "n")
print(pid == pgid)
f:close()

--- io.popen reads let other threads run
haz.run{"mkfifo", "f"}
local started = false
print(haz.parallel(function()
  local f = io.popen("cat f")
  started = true
  local s = f:read("a")
  f:close()
  return s
end, function()
  while not started do haz.sleep(0.01) end
  haz.run{"sh", "-c", "echo through popen > f", timeout = 10}
  return "writer done"
end))

--- io.popen closed file
local f = io.popen("echo x")
f:close()
print(pcall(f.read, f))
print(pcall(f.close, f))

--- print
print()
print(nil)
print(1, "two", nil, false, 3.5, 10 / 2)
print(setmetatable({}, {__tostring = function() return "custom" end}))
print("tab\tinside", "a\0b" == "a\0b")

--- io.write
io.write("a", 1, 2.5, "\n")
io.write()
io.write("x"):write("y\n")
io.write("no newline at the end")
print()

--- print and io.write order with children
print("1 print")
io.write("2 io.write\n")
haz.run{"echo", "3 child"}
os.execute("echo 4 os.execute")
print("5 print")

--- os.exit with a code
print("before")
os.exit(3)
print("not reached")
-- exit: 3

--- os.exit true and false
os.exit(false)
-- exit: 1

--- os.exit with no code
io.write("flushed without a newline")
os.exit()
-- exit: 0

--- os.exit inside pcall still exits
print(pcall(os.exit, 4))
print("not reached")
-- exit: 4

--- os.exit inside a haz.parallel branch
haz.parallel(function()
  haz.sleep(30)
end, function()
  os.exit(5)
end)
print("not reached")
-- exit: 5

--- os.exit terminates live processes
-- The child holds hazlua's stdout: the test would wait for it to exit.
haz.spawn{"sleep", "300", stdout = "inherit"}
haz.spawn{"sh", "-c", "sleep 300", stdout = "inherit", stderr = "inherit"}
print("exiting")
os.exit(6)
-- exit: 6

--- the end of the script terminates live processes
haz.spawn{"sleep", "300", stdout = "inherit"}
print("done")
