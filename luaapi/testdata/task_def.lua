-- Errors in task definitions (SPEC S2, S5): haz.task and haz.limit raise
-- at the call, with its file:line, and the run exits 2; unknown tasks and
-- dependencies ("did you mean") and cycles (a → b → a) are found after the
-- top level, before any task runs, and exit 2 too. No task body runs.

--- unknown key
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": unknown key "rnu" \(did you mean "run"\?; valid keys: run, deps, desc, inputs, outputs, key, env, mutex, tags, timeout, always, params, service\)\n$
haz.task("a", {rnu = function() end})
print("not reached")

--- several unknown keys are all named
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": unknown keys "dep", "tag" \(did you mean "deps", "tags"\?; valid keys: run,
haz.task("a", {dep = {}, run = function() end, tag = {}})

--- a list item is an unknown key
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": unknown key
haz.task("a", {function() end})

--- the name must be a non-empty string
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: argument #1 must be a task name .*not a number\n$
haz.task(1, function() end)

--- the name must not be empty
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: argument #1 must be a task name
haz.task("", function() end)

--- a function or a table is needed
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a" needs a function or an options table\n$
haz.task("a")

--- the second argument must be a function or a table
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: argument #2 must be a function or an options table, not a string\n$
haz.task("a", "echo hi")

--- run must be a function
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": run must be a function, not a string\n$
haz.task("a", {run = "make"})

--- deps must be a list of strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": deps must be a list of strings, not a string\n$
haz.task("a", {deps = "b"})

--- deps items must be strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": deps item 2 must be a non-empty string, not a number\n$
haz.task("a", {deps = {"b", 3}})

--- deps must not have holes
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": deps must be a list
haz.task("a", {deps = {"b", nil, "c"}})

--- deps must not have names as keys
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": deps must be a list
haz.task("a", {deps = {b = true}})

--- desc must be a string
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": desc must be a string, not a number\n$
haz.task("a", {desc = 5})

--- inputs must be a list of strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": inputs must be a list of strings, not a string\n$
haz.task("a", {inputs = "src/*.c"})

--- inputs items must be strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": inputs item 1 must be a non-empty string, not a table\n$
haz.task("a", {inputs = {{}}})

--- outputs must be a list of strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": outputs must be a list of strings, not a boolean\n$
haz.task("a", {outputs = true})

--- outputs items must not be empty
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": outputs item 1 must be a non-empty string
haz.task("a", {outputs = {""}})

--- key must be a string
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": key must be a string, not a table\n$
haz.task("a", {key = {"-O2"}})

--- mutex must be a name or a table
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": mutex must be a name or \{name = \.\.\., shared = true\}, not a number\n$
haz.task("a", {mutex = 5})

--- a mutex table needs a name
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": mutex = \{name = \.\.\.\} needs a name\n$
haz.task("a", {mutex = {shared = true}})

--- a mutex table has only name and shared
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": mutex: unknown key "exclusive"
haz.task("a", {mutex = {name = "m", exclusive = true}})

--- mutex: shared must be a boolean
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": mutex: shared must be a boolean, not a string\n$
haz.task("a", {mutex = {name = "m", shared = "yes"}})

--- tags must be a list of strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": tags must be a list of strings, not a string\n$
haz.task("a", {tags = "heavy"})

--- tags items must be strings
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": tags item 1 must be a non-empty string, not a number\n$
haz.task("a", {tags = {1}})

--- timeout must be a duration
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": timeout "soon" is not a duration
haz.task("a", {timeout = "soon"})

--- timeout must be greater than zero
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": timeout 0 must be greater than zero\n$
haz.task("a", {timeout = 0})

--- a negative timeout
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": timeout "-1s" must be greater than zero\n$
haz.task("a", {timeout = "-1s"})

--- timeout must not be a table
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": timeout must be a number of seconds or a duration string, not a table\n$
haz.task("a", {timeout = {}})

--- always must be a boolean
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": always must be a boolean, not a number\n$
haz.task("a", {always = 1})

--- a duplicate name names both places, once each
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: haz\.task: task "a" already declared at build\.lua:3\n$
haz.task("a", function() end)
haz.task("a", {deps = {}})

--- the error is raised at the call, line of the call in a helper
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: haz\.task: task "x": deps must be a list
local function declare(name, deps)
  haz.task(name, {deps = deps})
end
declare("ok", {})
declare("x", "y")

--- a definition error can be caught, with its position
-- flags: -q
local ok, err = pcall(haz.task, "a", {bogus = 1})
print(ok, err) -- want: false	build.lua:2: haz.task: task "a": unknown key "bogus" (valid keys: run, deps, desc, inputs, outputs, key, env, mutex, tags, timeout, always, params, service)
local ok, err = pcall(function() haz.task("b", {deps = "c"}) end)
print(ok, err) -- want: false	build.lua:4: haz.task: task "b": deps must be a list of strings, not a string
haz.task("default", function() print("runs") end) -- want: [default] runs

--- a caught definition error does not declare the task
-- flags: -q
pcall(haz.task, "a", {run = function() print("a") end, bogus = 1})
haz.task("default", {deps = {"a"}})
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: task "default": unknown dependency "a"\n$

--- haz.task inside a task body
-- exit: 2
-- stderr: build\.lua:5: haz\.task: tasks are declared at the top level
haz.task("default", function()
  print("body runs")
  haz.task("late", function() end)
  print("not reached")
end)
-- want: [default] body runs

--- haz.task inside a haz.parallel branch
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: haz\.task: tasks are declared at the top level
haz.parallel(function()
  haz.task("late", function() end)
end)

--- haz.limit needs at least 1
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.limit: argument #2 must be a whole number of tasks, 1 or more, not 0\n$
haz.limit("link", 0)

--- haz.limit needs a whole number
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.limit: argument #2 must be a whole number
haz.limit("link", 1.5)

--- haz.limit needs a number
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.limit: argument #2 must be a whole number
haz.limit("link", "2")

--- haz.limit needs a tag name
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.limit: argument #1 must be a tag name, not a nil\n$
haz.limit(nil, 1)

--- haz.limit of a tag is set once
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: haz\.limit: limit "link": already set to 1\n$
haz.limit("link", 1)
haz.limit("link", 2)

--- haz.limit inside a task body
-- exit: 2
-- stderr: build\.lua:3: haz\.limit: limits are set at the top level
haz.task("default", function() haz.limit("link", 1) end)

--- haz.limit before or after the tasks that use the tag
-- flags: -q
haz.task("default", {tags = {"link"}, run = function() print("ok") end}) -- want: [default] ok
haz.limit("link", 1)

--- an unknown dependency, with a suggestion
-- exit: 2
-- stderr: ^hazlua: build\.lua:5: task "default": unknown dependency "bulid" \(did you mean "build"\?\)\n$
print("top level runs") -- want: top level runs
haz.task("build", function() print("not run") end)
haz.task("default", {deps = {"bulid"}})

--- an unknown dependency without a close name
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: task "default": unknown dependency "zzzzzz"\n$
haz.task("default", {deps = {"zzzzzz"}, run = function() print("not run") end})
haz.task("build", function() print("not run") end)

--- an unknown dependency of a task that is not run is still an error
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: task "other": unknown dependency "missing"\n$
haz.task("default", function() print("not run") end)
haz.task("other", {deps = {"missing"}})

--- a cycle
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: dependency cycle: a → b → a\n$
haz.task("a", {deps = {"b"}, run = function() print("not run") end})
haz.task("b", {deps = {"a"}, run = function() print("not run") end})
haz.task("default", {deps = {"a"}})

--- a longer cycle starts at its first declared task
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: dependency cycle: b → c → d → b\n$
haz.task("default", {deps = {"d"}})
haz.task("b", {deps = {"c"}})
haz.task("c", {deps = {"d"}})
haz.task("d", {deps = {"b"}})

--- a task that depends on itself
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: dependency cycle: a → a\n$
haz.task("a", {deps = {"a"}, run = function() print("not run") end})
haz.task("default", function() print("not run") end)

--- a top-level error after definitions is a run-time error
-- exit: 1
-- stderr: ^hazlua: build\.lua:4: boom\n$
haz.task("default", function() print("not run") end)
error("boom")

--- env lists names: a table of values is refused
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": env must be a list \(1\.\.n\) of strings\n$
haz.task("a", {inputs = {}, env = {CC = "gcc"}, run = function() end})

--- env names are variable names
-- exit: 2
-- stderr: ^hazlua: build\.lua:3: haz\.task: task "a": env: "A=B" is not an environment variable name\n$
haz.task("a", {inputs = {}, env = {"CC", "A=B"}, run = function() end})

--- two tasks with overlapping outputs
-- exit: 2
-- stderr: ^hazlua: build\.lua:4: task "b": output out/a overlaps output out of task "a" \(build\.lua:3\)\n$
haz.task("a", {outputs = {"out"}, run = function() end})
haz.task("b", {outputs = {"out/a"}, run = function() end})
haz.task("default", {deps = {"a"}})
