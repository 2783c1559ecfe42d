package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Hostile scripts (the reliability issue, part 1): whatever a script is or
// does, hazlua ends with the right exit status, a clear error where one is
// due, no Go trace (docs/api.md: Guarantees), and no process of the run left (docs/api.md: Cancellation).
// Rows of docs/RELIABILITY.md name these tests. They run in full mode only
// (not with -short).

// TestHostileScriptText feeds hazlua scripts that are not sensible Lua,
// or are very large: each loads and runs, or fails with one clear line.
func TestHostileScriptText(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	rng := rand.New(rand.NewChaCha8([32]byte{'g', 'a', 'r', 'b', 'a', 'g', 'e'}))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	// Not a shebang or a comment, so the first byte is parsed.
	garbage[0] = 0xff

	const tenMiB = 10 << 20
	tests := []struct {
		name    string
		content []byte
		want    int
		errRe   string // a stderr line "hazlua: <errRe>", when want != 0
		stdout  string // a regexp for the whole stdout, when want == 0
	}{
		{"binary-garbage", garbage, 2, `build\.lua:\d+: `, ""},
		{"NUL-bytes-in-code", []byte("print('a')\n\x00\x00print('b')\n"), 2, `build\.lua:2: `, ""},
		{"10MiB-of-local-x=1", bytes.Repeat([]byte("local x = 1\n"), tenMiB/12), 2, `build\.lua.*too many local variables`, ""},
		{"10MiB-of-statements", append(append([]byte("x = 0\n"), bytes.Repeat([]byte("x = x + 1\n"), tenMiB/10)...), "print(x)\n"...), 0, "", fmt.Sprint(tenMiB / 10)},
		{"10MiB-string-literal", []byte("local s = \"" + strings.Repeat("a", tenMiB) + "\"\nprint(#s)\n"), 0, "", fmt.Sprint(tenMiB)},
		{"10MiB-long-bracket-string", []byte("local s = [==[" + strings.Repeat("]]\n", tenMiB/3) + "]==]\nprint(#s)\n"), 0, "", fmt.Sprint(tenMiB / 3 * 3)},
		{"syntax-error", []byte("print('a')\nlocal x = = 1\n"), 2, `build\.lua:2: syntax error`, ""},
		{"syntax-error-at-end", []byte("print('a')\nfunction f(\n"), 2, `build\.lua:\d+: .*end of the file`, ""},
		{"unfinished-string", []byte("print('a')\nprint(\"abc\n"), 2, `build\.lua:\d+: unterminated string`, ""},
		{"unfinished-long-comment", []byte("print('a')\n--[[ never closed\n"), 2, `build\.lua:\d+: `, ""},
		{"deep-parentheses", []byte("print(" + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + ")\n"), 0, "", "1"},
		{"error-table", []byte("error({code = 1})\n"), 1, `error object is a table value$`, ""},
		{"error-nil", []byte("error(nil)\n"), 1, `error object is nil$`, ""},
		{"error-function", []byte("error(print)\n"), 1, `error object is a function value$`, ""},
		{"error-__tostring", []byte("error(setmetatable({}, {__tostring = function() return 'custom message' end}))\n"), 1, `custom message$`, ""},
		{"error-__tostring-raises", []byte("error(setmetatable({}, {__tostring = function() error('in tostring') end}))\n"), 1, `.+`, ""},
		{"recursion", []byte("local function f() return 1 + f() end\nf()\n"), 1, `.*stack overflow`, ""},
		{"recursion-__index", []byte("local t = setmetatable({}, {__index = function(t, k) return t[k] end})\nprint(t.x)\n"), 1, `.*(stack overflow|recursion)`, ""},
		{"recursion-gsub", []byte("local function f() return (string.gsub('a', 'a', f)) end\nf()\n"), 1, `.*stack overflow`, ""},
		{"recursion-dofile", []byte("dofile('build.lua')\n"), 1, `.*stack overflow`, ""},
		// Each level catches the overflow and raises it again.
		{"recursion-pcall", []byte("local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end\nprint(pcall(f))\nprint('after')\n"), 0, "", `false\t.*stack overflow\nafter`},
		// Each level catches the error below and fails on it.
		{"recursion-pcall-arith", []byte("local function f() return 1 + select(2, pcall(f)) end\nprint(pcall(f))\nprint('after')\n"), 0, "", `false\tbuild\.lua:1: .*\nafter`},
		{"recursion-in-task", []byte("local function f() return 1 + f() end\nhaz.task('default', function() f() end)\n"), 1, `.*stack overflow`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRawScript(t, tt.content)
			r := startHazlua(t, dir, nil, runOpts{}, "-q")
			lines := finish(t, r, nil, tt.want, 2*time.Minute)
			if tt.want != 0 {
				checkErrorLine(t, lines, tt.errRe)
				return
			}
			if got := r.stdout.String(); !regexp.MustCompile(`^(?s:` + tt.stdout + `)$`).MatchString(got) {
				t.Errorf("stdout %q, want it to match %q", tail(got, 5), tt.stdout)
			}
		})
	}
}

// TestHostileCoroutineRecursion: infinite recursion through coroutines
// (each level resumes a new coroutine) must end like any other stack
// overflow, with a clear error and exit 1 (docs/api.md: Guarantees: no Go trace). Each
// coroutine is a Lua state of its own, so the call stack limit of one
// state never trips; the test stops hazlua if it grows past 1 GiB instead
// of failing cleanly.
func TestHostileCoroutineRecursion(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	for _, tt := range []struct{ name, body string }{
		{"coroutine.wrap", "local function f() return coroutine.wrap(f)() end\nf()\n"},
		{"coroutine.resume", "local function f() local ok, e = coroutine.resume(coroutine.create(f)) if not ok then error(e, 0) end end\nf()\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRawScript(t, []byte(tt.body))
			r := startHazlua(t, dir, nil, runOpts{})
			over := killAboveRSS(r, 1<<20)
			ws := r.waitWithin(t, 2*time.Minute)
			lines := r.stderrLines(t)
			if over() {
				t.Fatalf("hazlua grew past 1 GiB of memory on infinite recursion through coroutines instead of failing with a clear error (killed by the test); stderr:\n%s", tail(strings.Join(lines, "\n"), 10))
			}
			checkNoGoTrace(t, lines)
			if code := ws.ExitStatus(); ws.Signaled() || code != 1 {
				t.Errorf("ended with %v (exit status %d), want exit status 1; stderr:\n%s", ws, code, tail(strings.Join(lines, "\n"), 10))
			}
			checkErrorLine(t, lines, `.*(overflow|too many|nested)`)
		})
	}
}

// TestHostileHugeAllocation: library calls asked for absurd amounts of
// memory fail with a Lua error (catchable by pcall), promptly, instead of
// a Go "out of memory" crash or minutes of work.
func TestHostileHugeAllocation(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	for _, tt := range []struct{ name, expr string }{
		{"string.rep-1e12", `string.rep("x", 1e12)`},
		{"string.rep-sep-1e12", `string.rep("x", 1e12, ",")`},
		{"unpack-1e9", `unpack({}, 1, 1e9)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRawScript(t, []byte(fmt.Sprintf("print(pcall(function() return select('#', %s) end))\nprint('after')\n", tt.expr)))
			r := startHazlua(t, dir, nil, runOpts{})
			over := killAboveRSS(r, 4<<20)
			// A failure takes well under a second; the bound tells it
			// from minutes of work (a call that runs longer holds the
			// Lua lock all along, so that no signal stops it either).
			ws := r.wait(t)
			lines := r.stderrLines(t)
			if over() {
				t.Fatalf("hazlua grew past 4 GiB of memory on %s (killed by the test)", tt.expr)
			}
			checkNoGoTrace(t, lines)
			if code := ws.ExitStatus(); ws.Signaled() || code != 0 {
				t.Errorf("ended with %v (exit status %d), want exit status 0 (pcall catches the error); stderr:\n%s", ws, code, tail(strings.Join(lines, "\n"), 10))
			}
			if out := r.stdout.String(); !regexp.MustCompile(`(?s)^false\t.+\nafter$`).MatchString(out) {
				t.Errorf("stdout %q, want pcall's false and a message, then after", tail(out, 5))
			}
		})
	}
}

// TestHostileBusyLoopSignal: a busy loop that never calls haz is stopped by
// SIGINT (exit 130) wherever it spins: the top level, a task, pcall, a
// coroutine, a metamethod, a table.sort comparator, a string.gsub callback.
// docs/api.md, Cancellation: the thread stops at its next instruction.
func TestHostileBusyLoopSignal(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	const spin = `print("ready") while true do end`
	tests := []struct {
		name string
		body string
		task bool
	}{
		{"top-level", spin, false},
		{"pcall", `while true do pcall(function() ` + spin + ` end) end`, false},
		{"pcall-error-each-time", `print("ready") while true do pcall(error, "x") end`, false},
		{"xpcall-handler", `xpcall(function() error("x") end, function() ` + spin + ` end)`, false},
		{"coroutine.wrap", `coroutine.wrap(function() ` + spin + ` end)()`, false},
		{"__index", `local t = setmetatable({}, {__index = function() ` + spin + ` end}) local _ = t.x`, false},
		{"table.sort", `table.sort({3, 2, 1}, function(a, b) ` + spin + ` end)`, false},
		{"string.gsub", `string.gsub("a", "a", function() ` + spin + ` end)`, false},
		{"task", `haz.task("default", function() ` + spin + ` end)`, true},
		{"task-pcall", `haz.task("default", function() while true do pcall(function() ` + spin + ` end) end end)`, true},
		{"task-table.sort", `haz.task("default", function() table.sort({3, 2, 1}, function(a, b) ` + spin + ` end) end)`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body + "\nprint('not reached')\n"
			if tt.task {
				body = tt.body + "\n"
			}
			dir := writeScript(t, body)
			r := startHazlua(t, dir, nil, runOpts{}, "--grace", "2s")
			r.stdout.waitForWithin(t, "stdout", regexp.MustCompile(`ready$`), deadline)
			r.signal(t, syscall.SIGINT)
			lines := finish(t, r, nil, 130, deadline)
			if tt.task {
				checkErrorLine(t, lines, `received SIGINT, stopping`)
			} else {
				checkStoppingLine(t, lines, "2s")
			}
			if strings.Contains(r.stdout.String(), "not reached") {
				t.Errorf("the script went on after SIGINT")
			}
		})
	}
}

// TestHostileUnwaitedSpawns: a script spawns thousands of processes and
// waits for none of them. The run ends cleanly (exit 0) and none of them
// is left: short ones are reaped as they go, long ones terminated at the
// end.
func TestHostileUnwaitedSpawns(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	t.Run("10000-true", func(t *testing.T) {
		dir := writeScript(t, `
for i = 1, 10000 do haz.spawn{"true"} end
print("spawned")
`)
		r := startHazlua(t, dir, nil, runOpts{})
		finish(t, r, nil, 0, 3*time.Minute)
		if out := r.stdout.String(); out != "spawned" {
			t.Errorf("stdout %q, want spawned", tail(out, 5))
		}
	})
	t.Run("500-sleep", func(t *testing.T) {
		// 500 plain sleeps (found by the token if one survives) and 20
		// shells that hold the FIFO.
		dir := writeScript(t, `
for i = 1, 500 do haz.spawn{"sleep", "1000"} end
for i = 1, 20 do start("h" .. i, "echo ready; exec sleep 1000") end
for i = 1, 500 do haz.spawn{"sleep", "1000", stdout = "pipe", stderr = "capture"} end
print("spawned")
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "--grace", "2s")
		code := r.exitCodeWithin(t, 2*time.Minute)
		var names []string
		for i := 1; i <= 20; i++ {
			names = append(names, fmt.Sprint("h", i))
		}
		h.expect(t, r.token, names...)
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		checkNoneLeft(t, r)
		if code != 0 {
			t.Errorf("exit status %d, want 0; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
	})
}

// TestHostileWaitEverywhere: a task spawns and waits from inside pcall,
// an iterator (coroutine.wrap), a metamethod (__index) and a table.sort
// comparator, four tasks at once (docs/api.md: The script: waiting works everywhere in Lua
// code). Then the same four are interrupted while they wait there: exit
// 130, no Go trace, nothing left, and pcall does not let the task go on.
func TestHostileWaitEverywhere(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	t.Run("run", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("pcall", function()
  for i = 1, 3 do
    local ok, out = pcall(haz.output, {"echo", "p" .. i})
    print(ok, out)
  end
  print(pcall(haz.run, {"false"}))
end)
haz.task("iter", function()
  local gen = coroutine.wrap(function()
    for i = 1, 3 do coroutine.yield(haz.output{"echo", "i" .. i}) end
  end)
  for v in gen do print(v) end
  for line in haz.spawn{"printf", "l1\nl2\n"}:lines() do print(line) end
end)
haz.task("meta", function()
  local t = setmetatable({}, {__index = function(_, k) return haz.output{"echo", "m-" .. k} end,
    __add = function(a, b) return haz.output{"echo", "add"} end,
    __tostring = function() return haz.output{"echo", "tostring"} end})
  print(t.a, t.b, t + 1, tostring(t))
end)
haz.task("sort", function()
  local xs = {5, 3, 4, 1, 2}
  table.sort(xs, function(a, b) return tonumber(haz.output{"echo", a}) < tonumber(haz.output{"echo", b}) end)
  print(table.concat(xs, ","))
end)
`)
		r := startHazlua(t, dir, nil, runOpts{}, "-j", "8", "-q", "pcall", "iter", "meta", "sort")
		finish(t, r, nil, 0, 2*time.Minute)
		got := map[string][]string{}
		for _, l := range r.stdout.all() {
			if m := regexp.MustCompile(`^\[(\w+)\] (.*)$`).FindStringSubmatch(l); m != nil {
				got[m[1]] = append(got[m[1]], m[2])
			} else {
				t.Errorf("stdout line %q is not [task] text", l)
			}
		}
		want := map[string][]string{
			"pcall": {"true\tp1", "true\tp2", "true\tp3", `false\tbuild\.lua:8: haz\.run: "false" exited with status 1`},
			"iter":  {"i1", "i2", "i3", "l1", "l2"},
			"meta":  {"m-a\tm-b\tadd\ttostring"},
			"sort":  {"1,2,3,4,5"},
		}
		for task, w := range want {
			g := got[task]
			if len(g) != len(w) {
				t.Errorf("task %s wrote %q, want %q", task, g, w)
				continue
			}
			for i := range w {
				if !regexp.MustCompile("^" + w[i] + "$").MatchString(g[i]) {
					t.Errorf("task %s line %d: %q, want %q", task, i+1, g[i], w[i])
				}
			}
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		dir := writeScript(t, `
local function hold(name)
  local p = start(name, TREE)
  print("ready " .. name)
  return p:wait()
end
haz.task("pcall", function()
  print(pcall(hold, "pcall"))
  print("after pcall")
end)
haz.task("iter", function()
  for v in coroutine.wrap(function() coroutine.yield(hold("iter")) end) do print("after iter") end
end)
haz.task("meta", function()
  local t = setmetatable({}, {__index = function(_, k) return hold(k) end})
  local _ = t.meta
  print("after meta")
end)
haz.task("sort", function()
  local first = true
  table.sort({2, 1}, function(a, b)
    if first then first = false hold("sort") end
    return a < b
  end)
  print("after sort")
end)
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "-j", "8", "--grace", "3s", "pcall", "iter", "meta", "sort")
		for _, n := range []string{"pcall", "iter", "meta", "sort"} {
			r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[`+n+`\] ready `+n+`$`))
		}
		h.expect(t, r.token, treeNames("pcall", "iter", "meta", "sort")...)
		r.signal(t, syscall.SIGINT)
		lines := finish(t, r, h, 130, deadline)
		checkErrorLine(t, lines, `received SIGINT, stopping`)
		if out := r.stdout.String(); strings.Contains(out, "after") {
			t.Errorf("a task went on after it was interrupted; stdout:\n%s", out)
		}
	})
}

// TestHostileRemovesOwnRoot: the script deletes the project root (its own
// directory, the working directory of hazlua) and goes on spawning: every
// call either works or fails with a clear error, and the run ends
// cleanly.
func TestHostileRemovesOwnRoot(t *testing.T) {
	skipIfShort(t, "hostile scripts run in full mode only")
	dir := writeScript(t, `
print("removed", haz.fs.remove(haz.root, {recursive = true}))
print("exists", haz.fs.exists("build.lua"))
local r = haz.run{"sh", "-c", "echo child ran", check = false}
print("run", r.ok)
print("output", haz.output{"echo", "hi"})
local ok, err = pcall(haz.spawn, {"true", cwd = "sub"})
print("cwd", ok, err)
print("write", haz.fs.write("x.txt", "data"))
haz.task("default", function() haz.run{"echo", "task ran"} end)
`)
	r := startHazlua(t, dir, nil, runOpts{}, "-q")
	finish(t, r, nil, 0, deadline)
	want := []string{
		"removed\ttrue",
		"exists\tfalse",
		"child ran",
		"run\ttrue",
		"output\thi",
		`cwd\tfalse\tbuild\.lua:8: haz\.spawn: cwd "sub": no such file or directory`,
		`write\tnil\thaz\.fs\.write: .*no such file or directory`,
		`\[default\] task ran`,
	}
	got := r.stdout.all()
	if len(got) != len(want) {
		t.Fatalf("stdout:\n%s\nwant lines matching:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !regexp.MustCompile("^" + want[i] + "$").MatchString(got[i]) {
			t.Errorf("stdout line %d: %q, want %q", i+1, got[i], want[i])
		}
	}
}
