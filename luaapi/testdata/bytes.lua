-- No deadlock and no lost or altered byte (SPEC S9): a child writing a lot
-- to both streams, binary data through pipes, long lines, no final newline.

--- a lot on stdout and stderr at once, both captured
local r = haz.spawn{"sh", "-c", "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2; head -c 1000000 /dev/zero", stderr = "capture"}:wait()
print(r.ok, #r.stdout, #r.stderr) -- want: true	4000000	2000000

--- a lot on stdout and stderr interleaved
local r = haz.spawn{"sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo out $i; echo err $i >&2; i=$((i+1)); done", stderr = "capture"}:wait()
local _, nout = r.stdout:gsub("\n", "")
local _, nerr = r.stderr:gsub("\n", "")
print(r.ok, nout, nerr, r.stdout:match("out 1999\n$") ~= nil) -- want: true	2000	2000	true

--- a lot through stderr = "stdout"
local r = haz.spawn{"sh", "-c", "head -c 500000 /dev/zero; head -c 500000 /dev/zero >&2", stderr = "stdout"}:wait()
print(#r.stdout) -- want: 1000000

--- a lot through a pipe while stderr is captured
local p = haz.spawn{"sh", "-c", "head -c 2000000 /dev/zero >&2; seq 1 100000", stdout = "pipe", stderr = "capture"}
local n, last = 0, nil
for line in p:lines() do n, last = n + 1, line end
print(n, last, #p:wait().stderr) -- want: 100000	100000	2000000

--- binary data through input, a pipeline and a capture
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
local all = table.concat(bytes)
local data = string.rep(all, 4096) .. "\0\r\n\0end without newline"
local out = haz.pipe({"cat", input = data}, {"cat"}, {"cat"}):stdout()
print(#out == #data, out == data) -- want: true	true

--- binary data through stdin pipe and stdout pipe
local data = string.rep("\0\1\2\255\r\n", 100000)
local p = haz.spawn{"cat", stdin = "pipe", stdout = "pipe"}
local q = haz.spawn{"cat", stdin = p}
p:write(data)
p:close()
print(q:stdout() == data) -- want: true

--- checksums agree
local s = haz.output{"seq", "1", "200000"}
print(haz.output{"cksum", input = s .. "\n"} == haz.output{"sh", "-c", "seq 1 200000 | cksum"}) -- want: true

--- a line longer than any buffer
local p = haz.spawn{"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo; echo short", stdout = "pipe"}
local lines = {}
for line in p:lines() do lines[#lines + 1] = line end
print(#lines, #lines[1], lines[1]:match("^x+$") ~= nil, lines[2]) -- want: 2	300000	true	short

--- popen of a lot
local f = io.popen("head -c 3000000 /dev/zero; echo done >&2")
print(#f:read("a")) -- want: 3000000
f:close()
-- stderr: ^done\n$

--- output without a final newline is kept
print(("%q"):format(haz.spawn{"printf", "no newline"}:stdout())) -- want: "no newline"
print(("%q"):format(haz.output{"printf", "x\\n\\n"})) -- want: "x"

--- empty output
local r = haz.spawn{"true", stderr = "capture"}:wait()
print(r.stdout == "", r.stderr == "") -- want: true	true
