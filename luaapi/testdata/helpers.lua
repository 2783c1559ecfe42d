-- haz.run, haz.output and haz.sh (SPEC S4 "Helpers").

--- run inherits stdout
local r = haz.run{"echo", "from run"} -- want: from run
print(r.ok, r.code, r.stdout) -- want: true	0	nil

--- run returns the result
local r = haz.run{"sh", "-c", "echo captured", stdout = "capture"}
print(r.stdout) -- want: captured
-- want:

--- run raises on failure
haz.run{"sh", "-c", "exit 3"} -- error: ^haz\.run: "sh" exited with status 3$

--- run raises on a signal
haz.run{"sh", "-c", "kill -KILL $$"} -- error: ^haz\.run: "sh" .*kill

--- run raises on a timeout
haz.run{"sleep", "30", timeout = 0.1} -- error: ^haz\.run: "sleep" timed out

--- run failure shows the last lines of captured stderr
haz.run{"sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i >&2; done; exit 2", stderr = "capture"} -- error: (?s)^haz\.run: "sh" exited with status 2\nlast lines of stderr:\n  line 3\n.*\n  line 12$

--- run failure is catchable with pcall
local ok, err = pcall(haz.run, {"sh", "-c", "echo bad >&2; exit 4", stderr = "capture", name = "gen"})
print(ok) -- want: false
print(err) -- want: build.lua:1: haz.run: "gen" exited with status 4
-- want: last lines of stderr:
-- want:   bad

--- run check false
local r = haz.run{"sh", "-c", "exit 5", check = false}
print(r.ok, r.code) -- want: false	5
local r = haz.run{"sleep", "30", timeout = 0.1, check = false}
print(r.ok, r.timed_out) -- want: false	true

--- run check must be a boolean
haz.run{"true", check = "no"} -- error: ^haz\.run: check must be a boolean

--- output
print(haz.output{"echo", "value"}) -- want: value
print(("%q"):format(haz.output{"printf", "a\\nb\\n\\n\\n"})) -- want: "a\nb"
print(("%q"):format(haz.output{"printf", "\\n\\nlead"})) -- want: "\n\nlead"
print(haz.output{"true"} == "") -- want: true

--- output keeps other trailing whitespace
print(("[%s]"):format(haz.output{"printf", "x \\t\\n"})) -- want: [x 	]

--- output raises on failure
haz.output{"sh", "-c", "echo partial; exit 1"} -- error: ^haz\.output: "sh" exited with status 1$

--- output with check false
print(haz.output{"sh", "-c", "echo partial; exit 1", check = false}) -- want: partial

--- output failure with captured stderr
haz.output{"sh", "-c", "echo why >&2; exit 1", stderr = "capture"} -- error: (?s)exited with status 1\nlast lines of stderr:\n  why$

--- output takes spawn keys
print(haz.output{"sh", "-c", 'cat; echo " $X"', input = "in", env = {X = "x"}}) -- want: in x

--- sh
haz.sh("echo $((6 * 7))") -- want: 42
local r = haz.sh("exit 0")
print(r.ok, r.name) -- want: true	sh

--- sh raises on failure
haz.sh("exit 9") -- error: ^haz\.sh: "sh" exited with status 9$

--- sh with options
local r = haz.sh("cat; echo $V >&2", {input = "in\n", env = {V = "v"}, stdout = "capture", stderr = "capture"})
io.write(r.stdout, r.stderr) -- want: in
-- want: v
local r = haz.sh("exit 3", {check = false, name = "step"})
print(r.ok, r.code, r.name) -- want: false	3	step

--- sh uses a shell
haz.sh("for w in a b; do echo $w; done | tr a-z A-Z") -- want: A
-- want: B
