-- pipeline.lua: a report built from a three-stage pipeline.
--
-- Shows haz.pipe (one process group, each stage's stdout feeding the next
-- stage's stdin through an OS pipe, no shell), p:lines() to read the result
-- as it arrives, and p:wait() to check that every stage succeeded.
--
-- Run it from the repository root:
--
--	hazlua examples/pipeline.lua
--
-- The task: before a release, list who owns the open TODO(name) comments in
-- the sources. So that the example runs anywhere, it first writes a small
-- source tree into a temporary directory; a real build.lua would point the
-- pipeline at its own src/ directory instead.

local src = haz.output{"mktemp", "-d"}

local files = {
  ["main.c"] = "int main(void) {\n  /* TODO(ann): parse flags */\n  return run();\n}\n",
  ["run.c"] = "int run(void) {\n  /* TODO(bob): handle EINTR */\n  /* TODO(ann): free the buffers */\n  return 0;\n}\n",
  ["io.c"] = "/* TODO(cho): use sendfile */\n/* TODO(ann): check short writes */\n/* FIXME not a TODO */\n",
  ["util.h"] = "#pragma once\n/* TODO(bob): drop this header */\n",
}
for name, text in pairs(files) do
  assert(haz.fs.write(haz.path.join(src, name), text))
end

-- grep -rhoE 'TODO\([a-z]+\)' SRC | sort | uniq -c
local todos = haz.pipe(
  {"grep", "-rhoE", [[TODO\([a-z]+\)]], src},
  {"sort"},
  {"uniq", "-c"}
)

-- Each line is "  COUNT TODO(name)": read them as they arrive.
local owners, total = {}, 0
for line in todos:lines() do
  local count, who = line:match("^%s*(%d+)%s+TODO%((%a+)%)$")
  owners[#owners + 1] = {who = who, count = tonumber(count)}
  total = total + tonumber(count)
end

-- Every stage must have succeeded (pipefail). grep exits 1 when it finds
-- nothing, which would fail the pipeline too.
local r = todos:wait()
if not r.ok then
  error(("the TODO pipeline failed: %s"):format(tostring(todos)))
end

table.sort(owners, function(a, b)
  if a.count ~= b.count then return a.count > b.count end
  return a.who < b.who
end)
print(("%d open TODOs, by owner:"):format(total))
for _, o in ipairs(owners) do
  print(("  %-4s %d"):format(o.who, o.count))
end
print(("pipeline of %d stages: %s"):format(#r.results, r.ok and "ok" or "failed"))

haz.fs.remove(src, {recursive = true})
