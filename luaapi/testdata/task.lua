-- haz.task (SPEC S5): both forms, every key, the body's argument t, where
-- a task's output goes (S7), the default task, the order of a -j1 run. Most
-- chunks run with -q: a run of tasks otherwise ends with a summary on
-- stderr (task_fail.lua checks it).

--- the function form
-- flags: -q
haz.task("default", function(t)
  print("hello from " .. t.name) -- want: [default] hello from default
end)

--- the table form
-- flags: -q
haz.task("default", {run = function(t)
  print("hello from " .. t.name) -- want: [default] hello from default
end})

--- every key at once
-- flags: -q
haz.limit("heavy", 2)
haz.task("gen", {
  desc = "generate things",
  inputs = {"*.txt"},
  outputs = {"out/gen.h", "out/*.o"},
  key = "cc -O2",
  mutex = "disk",
  tags = {"heavy", "io"},
  timeout = "1m",
  always = true,
  run = function(t)
    print(t.name, table.concat(t.inputs, ","), table.concat(t.outputs, ","))
    haz.fs.mkdir("out")
    haz.fs.write("out/gen.h", "")
    haz.fs.write("out/gen.o", "")
  end,
})
haz.task("default", {deps = {"gen"}, mutex = {name = "disk", shared = true}, timeout = 30, always = false, tags = {}, run = function(t)
  print(t.name, #t.inputs, #t.outputs)
end})
haz.fs.write("b.txt", "")
haz.fs.write("a.txt", "")
-- want: [gen] gen	a.txt,b.txt	out/gen.h,out/*.o
-- want: [default] default	0	0

--- an aggregate task runs only its dependencies
-- flags: -q -j1
haz.task("one", function() print("one") end) -- want: [one] one
haz.task("two", function() print("two") end) -- want: [two] two
haz.task("default", {deps = {"one", "two"}, desc = "everything"})

--- dependencies run first, once each
-- flags: -q -j1
haz.task("gen", function() print("gen") end) -- want: [gen] gen
haz.task("a", {deps = {"gen"}, run = function() print("a") end}) -- want: [a] a
haz.task("b", {deps = {"gen", "gen"}, run = function() print("b") end}) -- want: [b] b
haz.task("default", {deps = {"a", "b", "gen"}, run = function() print("last") end}) -- want: [default] last

--- a -j1 run starts ready tasks in declaration order
-- flags: -q -j1
haz.task("c", function() print("c") end)
haz.task("a", function() print("a") end)
haz.task("b", {deps = {"a"}, run = function() print("b") end})
haz.task("default", {deps = {"c", "b"}})
-- c and a are ready at once: c is declared first; b is declared before
-- nothing else that is ready, and runs as soon as a is done.
-- want: [c] c
-- want: [a] a
-- want: [b] b

--- no task named and no default: only the top level runs
haz.task("a", function() print("task a ran") end)
haz.task("build", function() print("task build ran") end)
print("top level ran") -- want: top level ran

--- the default task runs when none is named
-- flags: -q
print("top level first") -- want: top level first
haz.task("default", function() print("default ran") end) -- want: [default] default ran
haz.task("other", function() print("other ran") end)

--- the default task may be declared before its dependencies
-- flags: -q -j1
haz.task("default", {deps = {"later"}, run = function() print("default") end})
haz.task("later", function() print("later") end)
-- want: [later] later
-- want: [default] default

--- the top level runs to completion before any task
-- flags: -q
local log = {}
haz.task("default", function() print(table.concat(log, " ")) end) -- want: [default] declared work done
table.insert(log, "declared")
haz.run{"true"}
table.insert(log, "work")
table.insert(log, "done")

--- tasks share the script's globals and upvalues
-- flags: -q -j1
local count = 0
haz.task("a", function() count = count + 1 end)
haz.task("b", {deps = {"a"}, run = function() count = count + 10 end})
haz.task("default", {deps = {"b"}, run = function() print(count) end}) -- want: [default] 11

--- t.name, t.inputs, t.outputs and t.log
-- flags: -q
haz.task("default", function(t)
  print(type(t), t.name, type(t.inputs), #t.inputs, type(t.outputs), #t.outputs, type(t.log))
end)
-- want: [default] table	default	table	0	table	0	function

--- t.inputs: globs expanded, sorted, ** included, no duplicates
-- flags: -q
haz.fs.mkdir("src/lib/deep")
haz.fs.write("src/main.c", "")
haz.fs.write("src/lib/util.c", "")
haz.fs.write("src/lib/deep/x.c", "")
haz.fs.write("src/.hidden.c", "")
haz.fs.write("src/readme.md", "")
haz.task("default", {inputs = {"src/**/*.c", "src/main.c", "none/*.c"}, run = function(t)
  print(table.concat(t.inputs, " "))
end})
-- want: [default] src/lib/deep/x.c src/lib/util.c src/main.c

--- t.inputs are expanded when the task starts
-- flags: -q -j1
haz.fs.mkdir("gen")
haz.fs.write("gen/a.c", "")
haz.task("gen", function() haz.fs.write("gen/b.c", "") end)
haz.task("default", {deps = {"gen"}, inputs = {"gen/*.c"}, run = function(t)
  print(table.concat(t.inputs, " ")) -- want: [default] gen/a.c gen/b.c
end})

--- t.outputs are the patterns as written
-- flags: -q
haz.task("default", {outputs = {"build/app", "build/*.o"}, run = function(t)
  print(table.concat(t.outputs, " ")) -- want: [default] build/app build/*.o
  haz.fs.mkdir("build")
  haz.fs.write("build/app", "")
  haz.fs.write("build/a.o", "")
end})

--- t:log writes a line to the task's stderr
-- flags: -q
-- stderr: ^\[default\] building 3 true\n\[default\] \n$
haz.task("default", function(t)
  t:log("building", 3, true)
  t:log()
  print("on stdout") -- want: [default] on stdout
end)

--- print, io.write and io.stdout go to the task's stdout
-- flags: -q
haz.task("default", function()
  print("print", 1, nil)
  io.write("io.write ", 2, "\n")
  io.stdout:write("io.stdout:write ", 3, "\n")
  io.write("two ", "parts")
  io.write(" of one line\n")
  io.write("last line without a newline")
end)
-- want: [default] print	1	nil
-- want: [default] io.write 2
-- want: [default] io.stdout:write 3
-- want: [default] two parts of one line
-- want: [default] last line without a newline

--- io.stderr goes to the task's stderr
-- flags: -q
-- stderr: ^\[default\] on stderr\n$
haz.task("default", function()
  io.stderr:write("on stderr\n")
end)

--- the output of a task's children goes to its sink
-- flags: -q
-- stderr: ^\[default\] child err\n$
haz.task("default", function()
  haz.run{"sh", "-c", "echo child out; echo child err >&2"}
  haz.sh("echo from sh")
  os.execute("echo from os.execute")
  local p = haz.spawn{"echo", "spawned", stdout = "inherit"}
  p:wait()
end)
-- want: [default] child out
-- want: [default] from sh
-- want: [default] from os.execute
-- want: [default] spawned

--- captured output does not reach the sink
-- flags: -q
haz.task("default", function()
  local out = haz.output{"echo", "captured"}
  print("got " .. out) -- want: [default] got captured
end)

--- output outside tasks is raw
-- flags: -q
print("top") -- want: top
haz.run{"echo", "top child"} -- want: top child
haz.task("default", function() print("task") end) -- want: [default] task

--- each task has its own prefix
-- flags: -q -j1
haz.task("compile", function() print("cc") end) -- want: [compile] cc
haz.task("link", {deps = {"compile"}, run = function() print("ld") end}) -- want: [link] ld
haz.task("default", {deps = {"link"}})

--- haz.parallel inside a task
-- flags: -q -j4
haz.task("default", function(t)
  local a, b, c = haz.parallel(function()
    return haz.output{"echo", "x"}
  end, function()
    haz.sleep(0.05)
    return t.name
  end, function()
    return haz.output{"sh", "-c", "echo z"}
  end)
  print(a, b, c) -- want: [default] x	default	z
end)

--- output of haz.parallel branches inside a task is the task's
-- flags: -q -j4
haz.run{"mkfifo", "f"}
haz.task("default", function()
  haz.parallel(function()
    haz.run{"sh", "-c", "cat f", timeout = 10}
    print("after")
  end, function()
    haz.run{"sh", "-c", "echo through > f", timeout = 10}
  end)
end)
-- want: [default] through
-- want: [default] after

--- a haz.parallel branch that fails fails the task
-- flags: -q
-- exit: 1
-- stderr: ^hazlua: task default failed: build\.lua:8: inner\n$
haz.task("default", function()
  haz.parallel(function()
    haz.sleep(30)
  end, function()
    error("inner")
  end)
end)

--- a task's thread can be cancelled while it waits in pcall
-- flags: -q
-- exit: 1
-- stderr: ^hazlua: task default timed out
haz.task("default", {timeout = 0.3, run = function()
  while true do pcall(haz.sleep, 30) end
end})

--- many tasks
-- flags: -q -j8
local names = {}
local done = 0
for i = 1, 500 do
  names[i] = "t" .. i
  haz.task(names[i], function() done = done + 1 end)
end
haz.task("default", {deps = names, run = function() print(done) end}) -- want: [default] 500

--- inputs = {} gives a task a fingerprint without files
-- flags: -q
haz.task("default", {inputs = {}, key = "v1", run = function(t)
  print("ran with " .. #t.inputs .. " inputs")
end})
-- want: [default] ran with 0 inputs

--- haz.hash names contents as the fingerprints do
haz.fs.write("f.txt", "hello\n")
print(haz.hash.file("f.txt") == haz.hash.string("hello\n")) -- want: true
print(haz.hash.string("hello\n")) -- want: 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03
print(haz.hash.file("missing.txt")) -- want: nil	haz.hash.file: open missing.txt: no such file or directory
