package luaapi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBadInput runs misuses of the process API (docs/api.md: Processes, Guarantees): each must
// fail with exit status 1 and one line on stderr naming the script's
// file:line and the function, never with a Go trace.
func TestBadInput(t *testing.T) {
	type badCase struct {
		name   string
		script string // build.lua; the failing call is on line `line`
		line   int    // 0 means 1
		fname  string // the function the message starts with; "" for none
		msg    string // regexp for the rest of the message
	}
	const (
		proc   = `haz\.process\(pid=\d+, \w+, [a-z0-9 ]+\)`
		spawnT = `argument #1 must be a spawn table like \{"cc", "-c", "a\.c"\}, not a `
	)
	cases := []badCase{
		// Wrong types.
		{"spawn nil", `haz.spawn(nil)`, 0, "haz.spawn", spawnT + `nil$`},
		{"spawn no argument", `haz.spawn()`, 0, "haz.spawn", spawnT + `nil$`},
		{"spawn a string", `haz.spawn("ls")`, 0, "haz.spawn", spawnT + `string$`},
		{"program a number", `haz.spawn{program = 42}`, 0, "haz.spawn", `^program must be a string, not a number$`},
		{"list program a number", `haz.spawn{42, "x"}`, 0, "haz.spawn", `^program \(item 1\) must be a string, not a number$`},
		{"args a string", `haz.spawn{program = "echo", args = "x"}`, 0, "haz.spawn", `^args must be a list, not a string$`},
		{"args with a nil hole", `haz.spawn{program = "echo", args = {"a", nil, "c"}}`, 0, "haz.spawn", `^args has a hole: item 2 is nil$`},
		{"args item a table", `haz.spawn{program = "echo", args = {{}}}`, 0, "haz.spawn", `^args item 1 is a table, not a string$`},
		{"list item a table", `haz.spawn{"echo", {}}`, 0, "haz.spawn", `^the argument list item 2 is a table, not a string$`},
		{"args a map", `haz.spawn{program = "echo", args = {x = "y"}}`, 0, "haz.spawn", `^args: unknown key "x" \(a list has only items \[1\], \[2\], \.\.\.\)$`},
		{"env a number", `haz.spawn{"true", env = 1}`, 0, "haz.spawn", `^env must be a table, not a number$`},
		{"env name with =", `haz.spawn{"true", env = {["A=B"] = "x"}}`, 0, "haz.spawn", `^env name "A=B" is not valid`},
		{"env name empty", `haz.spawn{"true", env = {[""] = "x"}}`, 0, "haz.spawn", `^env name "" is not valid`},
		{"env name a number", `haz.spawn{"true", env = {"x"}}`, 0, "haz.spawn", `^env names must be strings, not a number$`},
		{"env value a table", `haz.spawn{"true", env = {X = {}}}`, 0, "haz.spawn", `^env X must be a string, a number or false, not a table$`},
		{"env value true", `haz.spawn{"true", env = {X = true}}`, 0, "haz.spawn", `^env X must be a string, a number or false, not true$`},
		{"clear_env a string", `haz.spawn{"true", clear_env = "yes"}`, 0, "haz.spawn", `^clear_env must be a boolean, not a string$`},
		{"jobserver a bad string", `haz.spawn{"make", jobserver = "fd"}`, 0, "haz.spawn", `^jobserver "fd" is not one of true, false, "pipe" or "fifo"$`},
		{"jobserver a number", `haz.spawn{"make", jobserver = 1}`, 0, "haz.spawn", `^jobserver must be a boolean, "pipe" or "fifo", not a number$`},
		{"cwd missing", `haz.spawn{"true", cwd = "no/such/dir"}`, 0, "haz.spawn", `^cwd "no/such/dir": no such file or directory$`},
		{"cwd a file", `haz.spawn{"true", cwd = "build.lua"}`, 0, "haz.spawn", `^cwd "build\.lua" is not a directory$`},
		{"cwd a number", `haz.spawn{"true", cwd = 1}`, 0, "haz.spawn", `^cwd must be a string, not a number$`},
		{"cwd empty", `haz.spawn{"true", cwd = ""}`, 0, "haz.spawn", `^cwd is empty$`},
		{"stdin bogus", `haz.spawn{"cat", stdin = "bogus"}`, 0, "haz.spawn", `^stdin "bogus" is not one of "null", "inherit", "pipe", a process or \{file = path\}$`},
		{"stdin a number", `haz.spawn{"cat", stdin = 0}`, 0, "haz.spawn", `^stdin must be a string, a process or a table, not a number$`},
		{"stdin file without a path", `haz.spawn{"cat", stdin = {}}`, 0, "haz.spawn", `^stdin = \{file = \.\.\.\} needs a file$`},
		{"stdin file unknown key", `haz.spawn{"cat", stdin = {fil = "x"}}`, 0, "haz.spawn", `^stdin: unknown key "fil" \(did you mean "file"\?; valid keys: file\)$`},
		{"stdin a process without a pipe", `local p = haz.spawn{"echo"}; haz.spawn{"cat", stdin = p}`, 0, "haz.spawn", `^stdin process ` + proc + ` was not spawned with stdout = "pipe"$`},
		{"stdin a process whose pipe is taken",
			`local p = haz.spawn{"sh", "-c", "echo; exec sleep 5", stdout = "pipe"}; haz.spawn{"cat", stdin = p}; haz.spawn{"cat", stdin = p}`,
			0, "haz.spawn", `^stdin process ` + proc + `: its stdout pipe is already taken$`},
		{"stdin a process read by lines",
			`local p = haz.spawn{"sh", "-c", "echo; exec sleep 5", stdout = "pipe"}; p:lines()` + "\n" + `haz.spawn{"cat", stdin = p}`,
			2, "haz.spawn", `^stdin process ` + proc + `: its stdout pipe is already taken$`},
		{"stdin and input", `haz.spawn{"cat", stdin = "null", input = "x"}`, 0, "haz.spawn", `^give stdin or input, not both$`},
		{"input a number", `haz.spawn{"cat", input = 5}`, 0, "haz.spawn", `^input must be a string, not a number$`},
		{"stdout bogus", `haz.spawn{"echo", stdout = "bogus"}`, 0, "haz.spawn", `^stdout "bogus" is not one of "capture", "inherit", "null", "pipe" or \{file = path\}$`},
		{"stdout stdout", `haz.spawn{"echo", stdout = "stdout"}`, 0, "haz.spawn", `^stdout "stdout" is not one of`},
		{"stdout a boolean", `haz.spawn{"echo", stdout = true}`, 0, "haz.spawn", `^stdout must be a string or \{file = path\}, not a boolean$`},
		{"stdout file empty", `haz.spawn{"echo", stdout = {file = ""}}`, 0, "haz.spawn", `^stdout = \{file = \.\.\.\} needs a file$`},
		{"stdout file unknown key", `haz.spawn{"echo", stdout = {file = "x", apend = true}}`, 0, "haz.spawn", `^stdout: unknown key "apend" \(did you mean "append"\?; valid keys: file, append\)$`},
		{"stdout file append not a boolean", `haz.spawn{"echo", stdout = {file = "x", append = 1}}`, 0, "haz.spawn", `^stdout: append must be a boolean, not a number$`},
		{"stderr pipe", `haz.spawn{"echo", stderr = "pipe"}`, 0, "haz.spawn", `^stderr "pipe" is not one of "inherit", "capture", "null", "stdout" or \{file = path\}$`},
		{"timeout negative", `haz.spawn{"true", timeout = -1}`, 0, "haz.spawn", `^timeout -1 must be greater than zero$`},
		{"timeout zero", `haz.spawn{"true", timeout = 0}`, 0, "haz.spawn", `^timeout 0 must be greater than zero$`},
		{"timeout soon", `haz.spawn{"true", timeout = "soon"}`, 0, "haz.spawn", `^timeout "soon" is not a duration`},
		{"timeout a table", `haz.spawn{"true", timeout = {}}`, 0, "haz.spawn", `^timeout .*not a table`},
		{"grace zero", `haz.spawn{"true", grace = 0}`, 0, "haz.spawn", `^grace 0 must be greater than zero$`},
		{"job yes", `haz.spawn{"true", job = "yes"}`, 0, "haz.spawn", `^job must be a boolean, not a string$`},
		{"name a table", `haz.spawn{"true", name = {}}`, 0, "haz.spawn", `^name must be a string, not a table$`},

		// Unknown keys name the key.
		{"unknown key", `haz.spawn{"ls", evn = {}}`, 0, "haz.spawn", `^unknown key "evn" \(did you mean "env"\?; valid keys: program, args, env,`},
		{"unknown keys", `haz.spawn{"ls", evn = {}, cdw = "x"}`, 0, "haz.spawn", `^unknown keys "cdw", "evn" \(did you mean "cwd", "env"\?; valid keys: program,`},
		{"unknown key in run", `haz.run{"true", chek = false}`, 0, "haz.run", `^unknown key "chek" \(did you mean "check"\?; valid keys: .*check\)$`},
		{"check in spawn", `haz.spawn{"true", check = false}`, 0, "haz.spawn", `^unknown key "check" \(valid keys: `},
		{"a fractional key", `haz.spawn{"echo", [1.5] = "x"}`, 0, "haz.spawn", `^unknown key \[1\.5\] \(valid keys: program,`},
		{"a boolean key", `haz.spawn{"echo", [true] = "x"}`, 0, "haz.spawn", `^unknown key \[true\] \(valid keys: program,`},
		{"parallel list with a key", `haz.parallel{function() end, x = 1}`, 0, "haz.parallel", `^unknown key "x" \(a list has only items \[1\], \[2\], \.\.\.\)$`},
		{"unknown key in a pipe stage", `haz.pipe({"echo"}, {"cat", stdot = "null"})`, 0, "haz.pipe stage 2", `^unknown key "stdot" \(did you mean "stdout"\?; `},

		// Programs.
		{"empty program", `haz.spawn{program = ""}`, 0, "haz.spawn", `^program is empty$`},
		{"empty list program", `haz.spawn{""}`, 0, "haz.spawn", `^program is empty$`},
		{"missing program", `haz.spawn{}`, 0, "haz.spawn", `^no program: give program = "name" or a list \{"name", args\.\.\.\}$`},
		{"args without program", `haz.spawn{args = {"x"}}`, 0, "haz.spawn", `^no program`},
		{"program not found", `haz.spawn{"no-such-program-hazlua"}`, 0, "haz.spawn", `^program "no-such-program-hazlua" not found in PATH$`},
		{"program path not found", `haz.spawn{"./no-such-program"}`, 0, "haz.spawn", `^program "\./no-such-program": `},
		{"program and list", `haz.spawn{"echo", program = "echo"}`, 0, "haz.spawn", `^give program = \.\.\. or a list \{program, args\.\.\.\}, not both$`},
		{"args and list", `haz.spawn{"echo", "x", args = {"y"}}`, 0, "haz.spawn", `^give args = \{\.\.\.\} or a list \{program, args\.\.\.\}, not both$`},
		{"NUL in an argument", `haz.spawn{"echo", "a\0b"}`, 0, "haz.spawn", `^argument 1 \("a\\x00b"\) contains a NUL byte$`},
		{"NUL in an env value", `haz.spawn{"true", env = {X = "a\0b"}}`, 0, "haz.spawn", `^env X contains a NUL byte$`},
		{"NUL in an env name", `haz.spawn{"true", env = {["X\0"] = "a"}}`, 0, "haz.spawn", `^env name "X\\x00" is not valid`},
		{"NUL in the program", `haz.spawn{"ec\0ho"}`, 0, "haz.spawn", `^program "ec\\x00ho" contains a NUL byte$`},
		{"NUL in os.execute", `os.execute("echo a\0b")`, 0, "os.execute", `^command contains a NUL byte$`},
		{"NUL in io.popen", `io.popen("echo a\0b")`, 0, "io.popen", `^command contains a NUL byte$`},
		{"io.popen mode", `io.popen("true", "rw")`, 0, "io.popen", `^mode must be "r" or "w", not "rw"$`},

		// Methods.
		{"bad signal name", `local p = haz.spawn{"sleep", "10"}; p:signal("bogus")`, 0, "haz.process:signal", `^unknown signal "bogus"`},
		{"signal number not an integer", `local p = haz.spawn{"sleep", "10"}; p:signal(1.5)`, 0, "haz.process:signal", `^signal number 1\.5 is not valid$`},
		{"signal a table", `local p = haz.spawn{"sleep", "10"}; p:signal({})`, 0, "haz.process:signal", `^signal must be a name or a number, not a table$`},
		{"signal on a non-process", `local p = haz.spawn{"true"}; p.signal(42, "term")`, 0, "haz.process:signal", `^expected a process \(call it as p:signal\(\.\.\.\)\), got a number$`},
		{"wait on a non-process", `local p = haz.spawn{"true"}; p.wait({})`, 0, "haz.process:wait", `^expected a process`},
		{"wait negative timeout", `local p = haz.spawn{"true"}; p:wait(-1)`, 0, "haz.process:wait", `^duration -1 must be greater than zero$`},
		{"write after close", `local p = haz.spawn{"cat", stdin = "pipe"}; p:close(); p:write("x")`, 0, "haz.process:write", `^stdin of ` + proc + ` is closed$`},
		{"close twice", `local p = haz.spawn{"cat", stdin = "pipe"}; p:close(); p:close()`, 0, "haz.process:close", `^stdin of ` + proc + ` is already closed$`},
		{"write without a stdin pipe", `local p = haz.spawn{"cat"}; p:write("x")`, 0, "haz.process:write", `^stdin of ` + proc + ` is not a pipe \(spawn it with stdin = "pipe"\)$`},
		{"close without a stdin pipe", `local p = haz.spawn{"cat", input = "x"}; p:close()`, 0, "haz.process:close", `^stdin of ` + proc + ` is not a pipe`},
		{"stdout of an inherit process", `local p = haz.spawn{"true", stdout = "inherit"}; p:stdout()`, 0, "haz.process:stdout", `^stdout of ` + proc + ` is "inherit"; only "capture" or "pipe" can be read$`},
		{"stdout of a file process", `local p = haz.spawn{"true", stdout = {file = "x"}}; p:stdout()`, 0, "haz.process:stdout", `^stdout of ` + proc + ` is "file"`},
		{"stdout of a taken pipe", `local p = haz.spawn{"sh", "-c", "echo; exec sleep 5", stdout = "pipe"}; p:lines(); p:stdout()`, 0, "haz.process:stdout", `^the stdout pipe of ` + proc + ` is already taken`},
		{"stderr without capture", `local p = haz.spawn{"true"}; p:stderr()`, 0, "haz.process:stderr", `^stderr of ` + proc + ` is "inherit"; only "capture" can be read$`},
		{"lines twice on a pipe", `local p = haz.spawn{"sh", "-c", "echo; exec sleep 5", stdout = "pipe"}; p:lines(); p:lines()`, 0, "haz.process:lines", `^the stdout pipe of ` + proc + ` is already taken`},
		{"lines on a null stdout", `local p = haz.spawn{"echo", stdout = "null"}; p:lines()`, 0, "haz.process:lines", `^stdout of ` + proc + ` is "null"`},
		{"unknown method", `local p = haz.spawn{"true"}; p:frobnicate()`, 0, "", `^haz\.process has no method "frobnicate"$`},
		{"assign to a process", `local p = haz.spawn{"true"}; p.x = 1`, 0, "", `^haz\.process cannot be assigned to \(key "x"\)$`},

		// Helpers.
		{"sleep negative", `haz.sleep(-1)`, 0, "haz.sleep", `^duration -1 must be greater than zero$`},
		{"sleep nil", `haz.sleep()`, 0, "haz.sleep", `^duration must be a number of seconds or a duration string, not a nil$`},
		{"sleep soon", `haz.sleep("soon")`, 0, "haz.sleep", `^duration "soon" is not a duration`},
		{"parallel a number", `haz.parallel(1)`, 0, "haz.parallel", `^argument #1 must be a function, not a number$`},
		{"parallel second argument", `haz.parallel(function() end, "x")`, 0, "haz.parallel", `^argument #2 must be a function, not a string$`},
		{"parallel list item", `haz.parallel{function() end, 2}`, 0, "haz.parallel", `^item 2 must be a function, not a number$`},
		{"pipe without stages", `haz.pipe()`, 0, "haz.pipe", `^give at least one stage$`},
		{"pipe stage a string", `haz.pipe({"echo"}, "cat")`, 0, "haz.pipe", `^argument #2 must be a spawn table, not a string$`},
		{"pipe stage 2 with stdin", `haz.pipe({"echo"}, {"cat", stdin = "null"})`, 0, "haz.pipe stage 2", `^only the first stage may set stdin or input$`},
		{"pipe stage 3 with input", `haz.pipe({"echo"}, {"cat"}, {"cat", input = "x"})`, 0, "haz.pipe stage 3", `^only the first stage may set stdin or input$`},
		{"pipe stage 1 with stdout", `haz.pipe({"echo", stdout = "null"}, {"cat"})`, 0, "haz.pipe stage 1", `^only the last stage may set stdout$`},
		{"output with stdout", `haz.output{"echo", stdout = "capture"}`, 0, "haz.output", `^stdout cannot be set: haz\.output captures it$`},
		{"output a string", `haz.output("echo hi")`, 0, "haz.output", `^argument #1 must be a spawn table`},
		{"run nil", `haz.run()`, 0, "haz.run", `^argument #1 must be a spawn table`},
		{"sh nil", `haz.sh(nil)`, 0, "haz.sh", `^argument #1 must be a command string, not a nil$`},
		{"sh a table", `haz.sh{"echo"}`, 0, "haz.sh", `^argument #1 must be a command string, not a table$`},
		{"sh options a string", `haz.sh("true", "x")`, 0, "haz.sh", `^argument #2 must be a table of spawn options, not a string$`},
		{"sh options with program", `haz.sh("true", {program = "ls"})`, 0, "haz.sh", `^the command is argument #1; options cannot set program, args or a list$`},
		{"sh options unknown key", `haz.sh("true", {evn = {}})`, 0, "haz.sh", `^unknown key "evn" \(did you mean "env"\?; valid keys: env, clear_env, cwd, stdin, input, stdout, stderr, timeout, grace, job, jobserver, name, check\)$`},
		{"sh options name a table", `haz.sh("true", {name = {}})`, 0, "haz.sh", `^name must be a string, not a table$`},
		{"output unknown key", `haz.output{"echo", chek = false}`, 0, "haz.output", `^unknown key "chek" \(did you mean "check"\?; valid keys: program,.*, check\)$`},
		{"os.exit a string", `os.exit("x")`, 0, "os.exit", `^code must be a number or a boolean, not a string$`},

		// The line is the failing call's, after other lines.
		{"error on line 3", "local a = 1\nlocal b = 2\nhaz.spawn{\"true\", evn = {}}", 3, "haz.spawn", `^unknown key "evn"`},
		{"error in a function", "local function f()\n  haz.sleep(0)\nend\nf()", 2, "haz.sleep", `^duration 0 must be greater than zero$`},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(c.script+"\n"), 0o666); err != nil {
				t.Fatal(err)
			}
			line := c.line
			if line == 0 {
				line = 1
			}
			if n := strings.Count(c.script, "\n") + 1; line > n {
				t.Fatalf("line %d, but the script has %d lines", line, n)
			}
			want := fmt.Sprintf("hazlua: build.lua:%d: ", line)
			if c.fname != "" {
				want += c.fname + ": "
			}
			msgRe := regexp.MustCompile(c.msg)
			res := runHazlua(t, dir, nil, nil, "", 0)
			if res.code != 1 {
				t.Errorf("exit status %d, want 1", res.code)
			}
			first, rest, _ := strings.Cut(res.stderr, "\n")
			if msg, ok := strings.CutPrefix(first, want); !ok {
				t.Errorf("stderr's first line does not start with %q:\n%s", want, res.stderr)
			} else if !msgRe.MatchString(msg) {
				t.Errorf("message %q does not match %q", msg, c.msg)
			}
			if rest != "" {
				t.Errorf("stderr has more than one line:\n%s", res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout: %q, want nothing", res.stdout)
			}
		})
	}
}
