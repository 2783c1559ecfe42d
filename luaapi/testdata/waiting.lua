-- Waiting works everywhere in Lua code (SPEC S3): inside pcall, coroutine
-- iterators, metamethods, table.sort comparators, gsub callbacks, xpcall
-- handlers and tail calls, and every such wait lets a haz.parallel sibling
-- run. Expected output: waiting.golden.

--- inside pcall
print(pcall(haz.output, {"echo", "in pcall"}))
print(pcall(function() return haz.output{"echo", "in a pcall'd function"} end))
print(pcall(haz.sleep, 0.01))
local ok, err = pcall(haz.run, {"sh", "-c", "exit 1"})
print(ok, err)

--- inside nested pcalls
print(pcall(pcall, pcall, haz.output, {"echo", "deep"}))

--- inside xpcall and its handler
print(xpcall(function() return haz.output{"echo", "body"} end, print))
print(xpcall(function() error("failed", 0) end, function(e)
  return e .. ", handled by " .. haz.output{"echo", "the handler"}
end))

--- inside a coroutine iterator
for x in coroutine.wrap(function()
  for i = 1, 3 do
    coroutine.yield(haz.output{"echo", "item " .. i})
  end
end) do
  print(x)
end

--- a coroutine that waits between resumes
local co = coroutine.create(function(a)
  local r = haz.run{"sh", "-c", "echo got " .. a, stdout = "capture"}
  local b = coroutine.yield(r.stdout)
  haz.sleep(0.01)
  return haz.output{"echo", "then " .. b}
end)
print(coroutine.resume(co, "one"))
print(coroutine.resume(co, "two"))
print(coroutine.status(co))

--- p:lines() inside a coroutine
local p = haz.spawn{"printf", "l1\\nl2\\n", stdout = "pipe"}
local gen = coroutine.wrap(function()
  for line in p:lines() do coroutine.yield(line) end
end)
print(gen(), gen())

--- inside an __index metamethod
local versions = setmetatable({}, {__index = function(t, tool)
  local v = haz.output{"echo", tool .. "-1.0"}
  rawset(t, tool, v)
  return v
end})
print(versions.cc, versions.ld, versions.cc)

--- inside other metamethods
local mt = {
  __call = function(_, x) return haz.output{"echo", "called " .. x} end,
  __concat = function(a, b) return haz.output{"echo", "concat"} end,
  __eq = function() return haz.output{"echo", "yes"} == "yes" end,
  __lt = function() return haz.output{"sh", "-c", "echo lt"} == "lt" end,
  __tostring = function() return haz.output{"echo", "tostring"} end,
  __newindex = function(t, k, v) rawset(t, k, haz.output{"echo", v}) end,
  __unm = function() return haz.output{"echo", "unm"} end,
}
local a, b = setmetatable({}, mt), setmetatable({}, mt)
print(a("x"), a .. b, a == b, a < b, tostring(a), -a)
a.k = "assigned"
print(rawget(a, "k"))

--- inside a table.sort comparator
local list = {5, 3, 9, 1, 7}
table.sort(list, function(x, y)
  return haz.output{"sh", "-c", ("[ %d -lt %d ] && echo y || echo n"):format(x, y)} == "y"
end)
print(table.concat(list, " "))

--- inside a gsub callback
print((("a-b-c"):gsub("%a", function(c) return haz.output{"echo", c:upper()} end)))

--- in a tail call
local function version() return haz.output{"echo", "tail call"} end
local function outer() return version() end
print(outer())

--- inside a loadstring chunk
local f = loadstring("return haz.output{'echo', 'loaded chunk'}")
print(f())

--- inside require'd module code
haz.fs.write("mymod.lua", "return {v = haz.output{'echo', 'from a module'}}\n")
print(require("mymod").v)

--- inside pcall while a sibling runs
-- Each wait below happens while the sibling branch needs the lock to make
-- progress: the FIFO's writer is started by the sibling only after the
-- waiting branch has started its reader.
local function rendezvous(name, wait)
  haz.run{"mkfifo", name}
  local started = false
  return haz.parallel(function()
    local p = haz.spawn{"cat", name, timeout = 10}
    started = true
    return wait(p)
  end, function()
    while not started do haz.sleep(0.01) end
    haz.run{"sh", "-c", "echo " .. name .. " > " .. name, timeout = 10}
  end)
end
print(rendezvous("pcall", function(p)
  return select(2, pcall(p.stdout, p))
end))

--- inside a coroutine while a sibling runs
local function rendezvous(name, wait)
  haz.run{"mkfifo", name}
  local started = false
  return haz.parallel(function()
    local p = haz.spawn{"cat", name, timeout = 10}
    started = true
    return wait(p)
  end, function()
    while not started do haz.sleep(0.01) end
    haz.run{"sh", "-c", "echo " .. name .. " > " .. name, timeout = 10}
  end)
end
print(rendezvous("coroutine", function(p)
  for line in coroutine.wrap(function()
    for l in p:lines() do coroutine.yield(l) end
  end) do
    return line
  end
end))

--- inside __index while a sibling runs
local function rendezvous(name, wait)
  haz.run{"mkfifo", name}
  local started = false
  return haz.parallel(function()
    local p = haz.spawn{"cat", name, timeout = 10}
    started = true
    return wait(p)
  end, function()
    while not started do haz.sleep(0.01) end
    haz.run{"sh", "-c", "echo " .. name .. " > " .. name, timeout = 10}
  end)
end
print(rendezvous("index", function(p)
  local t = setmetatable({}, {__index = function() return p:wait().stdout end})
  return t.anything
end))

--- inside table.sort while a sibling runs
local function rendezvous(name, wait)
  haz.run{"mkfifo", name}
  local started = false
  return haz.parallel(function()
    local p = haz.spawn{"cat", name, timeout = 10}
    started = true
    return wait(p)
  end, function()
    while not started do haz.sleep(0.01) end
    haz.run{"sh", "-c", "echo " .. name .. " > " .. name, timeout = 10}
  end)
end
print(rendezvous("sort", function(p)
  local list, out = {2, 1}, nil
  table.sort(list, function(a, b)
    out = out or p:stdout()
    return a < b
  end)
  return out .. table.concat(list, ",")
end))

--- waits in many branches at once
local fns = {}
for i = 1, 20 do
  fns[i] = function()
    local ok, v = pcall(function()
      local t = setmetatable({}, {__index = function() haz.sleep(0.05) return i end})
      return t.x
    end)
    return ok and v
  end
end
local r = {haz.parallel(fns)}
print(#r, r[1], r[20])
