-- capture.lua: run tools, capture what they print, and decide from the
-- results.
--
-- Shows haz.output (stdout as a string, trailing newlines removed, an error
-- if the tool fails), haz.spawn with stdout and stderr captured separately,
-- the result table (ok, code, stdout, stderr), haz.run with check = false,
-- and the error haz.output raises, caught with pcall.
--
-- Run it from the repository root:
--
--	hazlua examples/capture.lua
--
-- The task: a pre-commit check. It asks a (stand-in) linter for findings,
-- prints them, and reports what failed. So that the example runs anywhere,
-- the linter is a small shell script written into a temporary directory; a
-- real build.lua would call golangci-lint, eslint or clang-tidy the same
-- way.

local tmp = haz.output{"mktemp", "-d"}

-- The stand-in linter: findings on stdout, a summary on stderr, exit
-- status 1 when it found something (as most linters do).
local lint = haz.path.join(tmp, "lint")
assert(haz.fs.write(lint, [[
#!/bin/sh
for f in "$@"; do
  grep -n 'printf(' "$f" | sed "s|^|$(basename "$f"):|; s|\$| (use the logger)|"
done
n=$(grep -c 'printf(' "$@" | awk -F: '{s += $NF} END {print s}')
echo "checked $# files, $n findings" >&2
[ "$n" -eq 0 ]
]]))
haz.run{"chmod", "+x", lint}

assert(haz.fs.write(haz.path.join(tmp, "a.c"), 'void a(void) {\n  printf("a");\n}\n'))
assert(haz.fs.write(haz.path.join(tmp, "b.c"), 'void b(void) {\n  log_info("b");\n}\n'))
assert(haz.fs.write(haz.path.join(tmp, "c.c"), 'void c(int x) {\n  if (x)\n    printf("c");\n}\n'))

-- haz.output: one value from a command, like $(...) in a shell.
local count = haz.output{"sh", "-c", "ls *.c | wc -l", cwd = tmp}
print(("linting %s files"):format(count))

-- haz.spawn with both streams captured: findings and summary apart.
local files = {"a.c", "b.c", "c.c"}
local r = haz.spawn{program = lint, args = files, cwd = tmp, stderr = "capture"}:wait()
print(("lint: %s (exit %d)"):format(r.ok and "clean" or "findings", r.code))
for line in r.stdout:gmatch("[^\n]+") do
  print("  " .. line)
end
print("  summary: " .. r.stderr:gsub("\n$", ""))

-- haz.run with check = false: a failure is a result to look at, not an
-- error. Here: a file that must not be committed.
local secrets = haz.run{"test", "-e", haz.path.join(tmp, "secrets.env"), check = false}
print(("secrets.env present: %s (test exited %d)"):format(secrets.ok and "yes" or "no", secrets.code))

-- A failing haz.output raises an error naming the program, its exit status
-- and the last lines of its stderr (when captured).
local ok, err = pcall(haz.output, {lint, "c.c", cwd = tmp, stderr = "capture"})
print(("haz.output of a failing lint raised: %s"):format(not ok))
print(err)

haz.fs.remove(tmp, {recursive = true})
