-- build.lua: build, test and run a small C project with tasks.
--
-- Shows haz.task with deps, desc, inputs, outputs and key; a task per
-- source file declared in a loop, so independent files compile in
-- parallel (-j N) while haz.limit caps the compilers at once; a generated
-- header that only the file including it waits for; an aggregate task; a
-- default task; and a clean task. Output of each task comes out prefixed
-- with its name ([test] ok 1 - greet).
--
-- Every task but "run" and "clean" declares inputs, so a second run does
-- nothing: each task is up to date while its inputs, its dependencies'
-- outputs and its definition are unchanged. Delete cproject/build and the
-- next run restores it from the cache (.haz/cache) instead of compiling.
--
-- Run it from the repository root:
--
--	hazlua examples/build.lua            build and test (the default task)
--	hazlua --explain examples/build.lua  the same, saying why each task runs or not
--	hazlua -l examples/build.lua         list the tasks
--	hazlua -n examples/build.lua test    what "test" would do, in order
--	hazlua -j1 examples/build.lua build  only build, one task at a time
--	hazlua examples/build.lua run        build, test and run the program
--	hazlua examples/build.lua clean      remove examples/cproject/build
--
-- The project, in examples/cproject: src/*.c make the program build/hello;
-- tests/test_main.c and the library sources make build/test_hello.

local VERSION = "1.2.0"
local SRC = "cproject/src"
local TESTS = "cproject/tests"
local BUILD = "cproject/build"
local CC = haz.env.CC or "cc"
local CFLAGS = {"-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"}

-- At most four compilers at once, whatever -j says.
haz.limit("cc", 4)

-- argv joins strings and lists of strings into one argument list.
local function argv(...)
  local out = {}
  for _, part in ipairs{...} do
    if type(part) == "table" then
      for _, s in ipairs(part) do table.insert(out, s) end
    else
      table.insert(out, part)
    end
  end
  return out
end

-- The commit goes into the header, so it is part of the task's key: what
-- its fingerprint must know that no input file holds.
local commit = "unknown"
if haz.which("git") then
  local out = haz.output{"git", "rev-parse", "--short", "HEAD", check = false, stderr = "null"}
  if out ~= "" then commit = out end
end

haz.task("version", {
  desc = "generate " .. BUILD .. "/version.h",
  inputs = {},
  outputs = {BUILD .. "/version.h"},
  key = VERSION .. " " .. commit,
  run = function(t)
    assert(haz.fs.mkdir(BUILD))
    assert(haz.fs.write(t.outputs[1],
      ("#define VERSION %q\n#define GIT_COMMIT %q\n"):format(VERSION, commit)))
  end,
})

-- compile declares "compile:NAME", which compiles src into BUILD/obj, and
-- returns the task's name and the object file.
local function compile(src, deps)
  local name = (haz.path.base(src):gsub("%.c$", ""))
  local obj = BUILD .. "/obj/" .. name .. ".o"
  haz.task("compile:" .. name, {
    desc = "compile " .. src,
    deps = deps,
    inputs = {src, SRC .. "/*.h"},
    outputs = {obj},
    key = CC .. " " .. table.concat(CFLAGS, " "),
    tags = {"cc"},
    run = function()
      assert(haz.fs.mkdir(BUILD .. "/obj"))
      haz.run(argv(CC, CFLAGS, "-I" .. SRC, "-I" .. BUILD, "-c", src, "-o", obj))
    end,
  })
  return "compile:" .. name, obj
end

-- One task per library source; main.c includes the generated header, so
-- only its task waits for "version".
local lib_tasks, lib_objs = {}, {}
local main_task, main_obj
for _, src in ipairs(haz.glob(SRC .. "/*.c")) do
  if haz.path.base(src) == "main.c" then
    main_task, main_obj = compile(src, {"version"})
  else
    local task, obj = compile(src)
    table.insert(lib_tasks, task)
    table.insert(lib_objs, obj)
  end
end
local test_task, test_obj = compile(TESTS .. "/test_main.c")

-- The linkers read only their dependencies' outputs, which are part of
-- every task's fingerprint: inputs = {} gives them one.
haz.task("link", {
  desc = "link " .. BUILD .. "/hello",
  deps = argv(main_task, lib_tasks),
  inputs = {},
  outputs = {BUILD .. "/hello"},
  run = function(t)
    haz.run(argv(CC, "-o", t.outputs[1], main_obj, lib_objs))
  end,
})

haz.task("link-tests", {
  desc = "link " .. BUILD .. "/test_hello",
  deps = argv(test_task, lib_tasks),
  inputs = {},
  outputs = {BUILD .. "/test_hello"},
  run = function(t)
    haz.run(argv(CC, "-o", t.outputs[1], test_obj, lib_objs))
  end,
})

haz.task("build", {desc = "build the program and the tests", deps = {"link", "link-tests"}})

-- The tests run again only when the test program changed; a result seen
-- before (after a git stash pop, say) comes back from the cache with its
-- output.
haz.task("test", {
  desc = "run the unit tests",
  deps = {"link-tests"},
  inputs = {},
  run = function()
    haz.run{BUILD .. "/test_hello"}
  end,
})

-- "run" waits for the tests, so that its output comes after theirs. It
-- runs every time: that is what it is for.
haz.task("run", {
  desc = "run the program",
  deps = {"link", "test"},
  always = true,
  run = function()
    haz.run{BUILD .. "/hello", "world"}
  end,
})

haz.task("default", {desc = "build and test", deps = {"build", "test"}})

haz.task("clean", {
  desc = "remove " .. BUILD,
  run = function()
    assert(haz.fs.remove(BUILD, {recursive = true}))
  end,
})
