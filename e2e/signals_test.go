package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// End-to-end tests of stopping a run: each stopping signal at each phase
// of a run (parse, top level, between tasks, children running), a second
// signal, the grace period, timeouts, the end of the script, SIGKILL of
// hazlua, signals ignored at start, and daemons. Each proves that no
// process survives (see helpers_test.go).

// stopScript starts, from the top level, two process trees with a daemon
// each (TREE), a two-stage pipeline and an io.popen child, all holding the
// FIFO; then, depending on haz.args[1], it says "ready" and stops in a
// different place for the signal to find it.
const stopScript = `
local a = start("a", TREE)
local b = start("b", TREE)
local pl = haz.pipe(
  {"sh", "-c", HOLD .. 'echo ready; exec sleep 1000', "p1"},
  {"sh", "-c", HOLD .. 'read line; echo "$line"; exec sleep 1000', "p2", stdout = "pipe"})
assert(pl:lines()() == "ready", "pipeline not ready")
local f = io.popen('exec 9>"$HAZ_FIFO"; echo popen >&9; echo ready; exec sleep 1000')
assert(f:read("l") == "ready", "popen not ready")

local mode = haz.args[1]
if mode == "wait" then
  print("ready")
  a:wait()
elseif mode == "busy" then
  print("ready")
  local n = 0
  while true do n = n + 1 end
elseif mode == "pcall-busy" then
  print("ready")
  while true do pcall(function() while true do end end) end
elseif mode == "sleep" then
  print("ready")
  haz.sleep(1000)
elseif mode == "execute" then
  -- os.execute's stdout is hazlua's: the child says ready itself.
  os.execute('exec 9>"$HAZ_FIFO"; echo execute >&9; echo ready; exec sleep 1000')
elseif mode == "parallel" then
  local n = 0
  local function branch(name)
    return function()
      local p = start(name, TREE)
      n = n + 1
      if n == 2 then print("ready") end
      return p:wait()
    end
  end
  haz.parallel(branch("par1"), branch("par2"))
end
print("not reached")
`

// stopHolders are the holders stopScript registers in every mode.
var stopHolders = append(treeNames("a", "b"), "p1", "p2", "popen")

// TestSignalStopsEverything sends each stopping signal to hazlua while its
// script waits with live process trees, and checks docs/api.md: Cancellation: exit 128+n,
// one line on stderr saying it is stopping and how long it waits, no Go
// trace, and no process left, daemons that left their group included.
func TestSignalStopsEverything(t *testing.T) {
	tests := []struct {
		name  string
		sig   syscall.Signal
		mode  string
		extra []string // holders registered by the mode
	}{
		{"SIGINT/wait", syscall.SIGINT, "wait", nil},
		{"SIGTERM/wait", syscall.SIGTERM, "wait", nil},
		{"SIGHUP/wait", syscall.SIGHUP, "wait", nil},
		{"SIGQUIT/wait", syscall.SIGQUIT, "wait", nil},
		{"SIGTERM/busy-loop", syscall.SIGTERM, "busy", nil},
		{"SIGINT/busy-loop-in-pcall", syscall.SIGINT, "pcall-busy", nil},
		{"SIGINT/haz.sleep", syscall.SIGINT, "sleep", nil},
		{"SIGTERM/os.execute", syscall.SIGTERM, "execute", []string{"execute"}},
		{"SIGINT/haz.parallel", syscall.SIGINT, "parallel", treeNames("par1", "par2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, stopScript)
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, "-j", "8", "--grace", "3s", "--", tt.mode)
			r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^ready$`))
			h.expect(t, r.token, append(append([]string(nil), stopHolders...), tt.extra...)...)

			r.signal(t, tt.sig)
			code := r.exitCode(t)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if want := 128 + int(tt.sig); code != want {
				t.Errorf("exit status %d, want %d (128+%d); stderr:\n%s", code, want, int(tt.sig), strings.Join(lines, "\n"))
			}
			checkStoppingLine(t, lines, "3s")
			if out := r.stdout.String(); strings.Contains(out, "not reached") {
				t.Errorf("the script went on after the signal; stdout:\n%s", out)
			}
		})
	}
}

// TestSecondSignalKillsAtOnce: children ignore SIGTERM and the grace period
// is a minute; the first SIGINT starts the stop (and says so), a second one
// SIGKILLs everything at once (docs/api.md: Cancellation).
func TestSecondSignalKillsAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		second  syscall.Signal
		body    string
		holders []string
	}{
		{
			name:   "group/SIGINT",
			second: syscall.SIGINT,
			body: `
local p = start("stubborn", [[trap '' TERM; sleep 1000 & echo ready; wait]])
print("ready")
p:wait()
`,
			holders: []string{"stubborn"},
		},
		{
			name:   "group/SIGTERM",
			second: syscall.SIGTERM,
			body: `
local p = start("stubborn", [[trap '' TERM; sleep 1000 & echo ready; wait]])
print("ready")
p:wait()
`,
			holders: []string{"stubborn"},
		},
		{
			// Daemons that ignore SIGTERM and left the group with setsid:
			// "outer" watches the group's shell and exits once it is gone,
			// so "inner", in a session of its own, becomes hazlua's orphan
			// only after the second signal was handled. The second signal
			// must not leave it a minute of grace either.
			name:   "late-orphan/SIGINT",
			second: syscall.SIGINT,
			body: `
local p = start("stubborn", [[
trap '' TERM
setsid sh -c '
  echo "$0.outer" >&9
  setsid sh -c "echo \"\$0.inner\" >&9; echo ready; exec sleep 1000" "$0" &
  while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
' "$0" "$$" &
wait
]])
print("ready")
p:wait()
`,
			holders: []string{"stubborn", "stubborn.outer", "stubborn.inner"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, tt.body)
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, "--grace", "60s")
			r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^ready$`))
			h.expect(t, r.token, tt.holders...)

			killWithSecondSignal(t, r, h, tt.second)
		})
	}
}

// TestSignalAfterError: the script fails while a child ignores SIGTERM, so
// hazlua waits out the grace period; a signal then (twice, to kill at
// once) makes the exit status 128+n, which beats 1 (README.md, Exit status), but the
// script's error must still be reported (README.md, Exit status: errors go to stderr).
func TestSignalAfterError(t *testing.T) {
	dir := writeScript(t, `
local p = start("stubborn", [[trap '' TERM; sleep 1000 & trap 'echo got-term >&2' TERM; echo ready; while :; do wait; done]])
error("boom")
`)
	h := newHolders(t)
	r := startHazlua(t, dir, h, runOpts{}, "--grace", "60s")
	// The child reports the SIGTERM of the shutdown that follows the error.
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^got-term$`))
	h.expect(t, r.token, "stubborn")
	r.signal(t, syscall.SIGINT)
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`stopping`))
	r.signal(t, syscall.SIGINT)
	code := r.exitCode(t)
	h.waitGone(t, r.token)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 130 {
		t.Errorf("exit status %d, want 130 (128+SIGINT beats 1)", code)
	}
	if text := strings.Join(lines, "\n"); !regexp.MustCompile(`(?m)^hazlua: build\.lua:4: boom$`).MatchString(text) {
		t.Errorf("the script's error (build.lua:4: boom) is not reported; stderr:\n%s", text)
	}
}

// TestTimeoutKillsStubbornChild: a child that ignores SIGTERM and runs past
// its timeout is SIGKILLed after its grace; haz.run raises a timeout error
// (exit 1) and nothing survives.
func TestTimeoutKillsStubbornChild(t *testing.T) {
	dir := writeScript(t, `
haz.run{"sh", "-c", HOLD .. "trap '' TERM; sleep 1000 & echo ready; wait", "stubborn", name = "stubborn", timeout = 0.5, grace = 0.2}
print("not reached")
`)
	h := newHolders(t)
	r := startHazlua(t, dir, h, runOpts{}, "--grace", "60s")
	code := r.exitCode(t)
	// The holder wrote its name before it could time out; the name is
	// still in the FIFO even if every holder is gone by now.
	h.expect(t, r.token, "stubborn")
	h.waitGone(t, r.token)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	text := strings.Join(lines, "\n")
	if !regexp.MustCompile(`(?m)^hazlua: build\.lua:3: .*"stubborn".*timed out`).MatchString(text) {
		t.Errorf("stderr does not say that \"stubborn\" timed out at build.lua:3:\n%s", text)
	}
	if strings.Contains(r.stdout.String(), "not reached") {
		t.Errorf("the script went on after the timeout")
	}
}

// TestScriptEndLeavesNothing: the run ends (os.exit, or the end of the
// script) while children run: they are terminated, nothing survives, and
// the exit status is the script's.
func TestScriptEndLeavesNothing(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"os.exit", `
local a = start("a", TREE)
local pl = haz.pipe({"sh", "-c", HOLD .. 'echo ready; exec sleep 1000', "p1"}, {"sh", "-c", HOLD .. 'read l; echo "$l"; exec sleep 1000', "p2", stdout = "pipe"})
assert(pl:lines()() == "ready")
os.exit(7)
`, 7},
		{"os.exit-in-pcall", `
local a = start("a", TREE)
pcall(function() os.exit(9) end)
print("not reached")
`, 9},
		{"end-without-wait", `
local a = start("a", TREE)
local pl = haz.pipe({"sh", "-c", HOLD .. 'echo ready; exec sleep 1000', "p1"}, {"sh", "-c", HOLD .. 'read l; echo "$l"; exec sleep 1000', "p2", stdout = "pipe"})
assert(pl:lines()() == "ready")
local helper = start("helper", "echo ready; exec sleep 1000", {job = false})
`, 0},
		{"runtime-error", `
local a = start("a", TREE)
error("boom")
`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, tt.body)
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, "--grace", "3s")
			code := r.exitCode(t)
			// The script got "ready" from every child before it ended, so
			// every holder had registered.
			names := treeNames("a")
			if strings.Contains(tt.body, `"p1"`) {
				names = append(names, "p1", "p2")
			}
			if strings.Contains(tt.body, `"helper"`) {
				names = append(names, "helper")
			}
			h.expect(t, r.token, names...)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if code != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.want, strings.Join(lines, "\n"))
			}
			if tt.want != 1 && len(lines) != 0 {
				t.Errorf("stderr should be empty:\n%s", strings.Join(lines, "\n"))
			}
			if strings.Contains(r.stdout.String(), "not reached") {
				t.Errorf("the script went on after os.exit")
			}
		})
	}
}

// TestSIGKILLKillsDirectChildren: when hazlua is SIGKILLed, its direct
// children die with it (parent-death signal, docs/api.md: Cancellation). Grandchildren may
// survive; they do not hold the FIFO (9>&-) and the cleanup kills them.
func TestSIGKILLKillsDirectChildren(t *testing.T) {
	dir := writeScript(t, `
local a = start("direct", [[sleep 1000 9>&- & setsid sh -c 'echo ready; exec sleep 1000' 9>&- & wait]])
local pl = haz.pipe({"sh", "-c", HOLD .. 'echo ready; exec sleep 1000', "stage1"}, {"sh", "-c", HOLD .. 'read l; echo "$l"; exec sleep 1000', "stage2", stdout = "pipe"})
assert(pl:lines()() == "ready")
local helper = start("nojob", "echo ready; exec sleep 1000", {job = false})
print("ready")
a:wait()
`)
	h := newHolders(t)
	r := startHazlua(t, dir, h, runOpts{}, "--grace", "3s")
	r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^ready$`))
	h.expect(t, r.token, "direct", "stage1", "stage2", "nojob")
	r.signal(t, syscall.SIGKILL)
	ws := r.wait(t)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("hazlua ended with %v, not SIGKILL", ws)
	}
	h.waitGone(t, r.token)
}

// TestIgnoredSignalsAtStart: hazlua started with SIGHUP, SIGINT, SIGQUIT
// and SIGPIPE ignored (nohup, a background job of a script). Its children
// still start with default dispositions and an empty signal mask (docs/api.md:
// Processes), and SIGHUP stays ignored (docs/api.md: Cancellation): a SIGHUP then a SIGTERM stop the
// run as SIGTERM.
func TestIgnoredSignalsAtStart(t *testing.T) {
	dir := writeScript(t, `
print(haz.output{"grep", "^SigIgn:", "/proc/self/status"})
print(haz.output{"grep", "^SigBlk:", "/proc/self/status"})
print(haz.output{"sh", "-c", "grep ^SigIgn: /proc/self/status"})
local p = start("child", "echo ready; exec sleep 1000")
print("ready")
p:wait()
`)
	h := newHolders(t)
	wrap := []string{"sh", "-c", `trap '' HUP INT QUIT PIPE; exec "$0" "$@"`}
	r := startHazlua(t, dir, h, runOpts{wrap: wrap}, "--grace", "3s")
	r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^ready$`))
	h.expect(t, r.token, "child")
	for _, l := range r.stdout.all() {
		if strings.HasPrefix(l, "SigIgn:") || strings.HasPrefix(l, "SigBlk:") {
			if f := strings.Fields(l); len(f) != 2 || strings.Trim(f[1], "0") != "" {
				t.Errorf("a child of hazlua has %q; want no ignored and no blocked signal", l)
			}
		}
	}
	// Both are pending at once if hazlua is slow to look: the kernel
	// delivers SIGHUP (1) before SIGTERM (15).
	r.signal(t, syscall.SIGHUP)
	r.signal(t, syscall.SIGTERM)
	code := r.exitCode(t)
	h.waitGone(t, r.token)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 143 {
		t.Errorf("exit status %d, want 143 (SIGHUP ignored, then SIGTERM); stderr:\n%s", code, strings.Join(lines, "\n"))
	}
	if text := strings.Join(lines, "\n"); strings.Contains(text, "HUP") {
		t.Errorf("hazlua reacted to SIGHUP although it started with SIGHUP ignored:\n%s", text)
	}
}

// TestSignalPhases sends SIGINT, SIGTERM and SIGHUP to hazlua at each
// phase of a run (the parse: TestSignalWhileParsing): while its top level spins,
// between tasks (one finished, the next waits on a dependency), and while
// tasks' children run. Each time: exit 128+n, no Go trace, and nothing
// the run started is left (daemons that left their group included).
func TestSignalPhases(t *testing.T) {
	phases := []struct {
		name    string
		body    string
		args    []string
		ready   func(t *testing.T, r *hazluaRun, h *holders)
		holders []string
	}{
		{
			name: "top-level-busy",
			body: `
local c = start("child", TREE)
print("ready")
while true do end`,
			holders: treeNames("child"),
		},
		{
			// first ends (hazlua terminates its child, which says so);
			// second waits for slow, whose child runs.
			name: "between-tasks",
			args: []string{"-j", "4", "second"},
			body: `
haz.task("first", function()
  start("first", [[trap 'echo first child terminated >&2; exit 0' TERM; echo ready; sleep 1000 & wait]])
end)
haz.task("slow", function()
  local p = start("slow", TREE)
  print("ready")
  p:wait()
end)
haz.task("second", {deps = {"first", "slow"}, run = function() print("second ran") end})`,
			ready: func(t *testing.T, r *hazluaRun, h *holders) {
				r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[first\] first child terminated$`))
			},
			holders: append(treeNames("slow"), "first"),
		},
		{
			name: "children-running",
			args: []string{"-j", "4", "a", "b"},
			body: `
haz.task("a", function() local p = start("a", TREE) print("ready") p:wait() end)
haz.task("b", function() local p = start("b", TREE) print("ready") p:wait() end)`,
			ready: func(t *testing.T, r *hazluaRun, h *holders) {
				r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[a\] ready$`))
				r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[b\] ready$`))
			},
			holders: treeNames("a", "b"),
		},
	}
	for _, ph := range phases {
		for _, sig := range stopSignals {
			t.Run(ph.name+"/"+unix.SignalName(sig), func(t *testing.T) {
				dir := writeScript(t, ph.body+"\n")
				h := newHolders(t)
				r := startHazlua(t, dir, h, runOpts{}, append([]string{"--grace", "2s"}, ph.args...)...)
				r.stdout.waitFor(t, "stdout", regexp.MustCompile(`ready$`))
				if ph.ready != nil {
					ph.ready(t, r, h)
				}
				h.expect(t, r.token, ph.holders...)
				r.signal(t, sig)
				lines := finish(t, r, h, 128+int(sig), deadline)
				checkErrorLine(t, lines, fmt.Sprintf(`received %s, stopping; waiting up to 2s`, unix.SignalName(sig)))
				if strings.Contains(r.stdout.String(), "second ran") {
					t.Errorf("a task ran after the signal")
				}
			})
		}
	}
}

// TestSignalWhileParsing: a signal while hazlua parses the script stops
// the run at once with 128+n: nothing has run and no process exists, so
// there is nothing to wait for (docs/design.md, "A stop that cannot be
// waited for"). The script is a FIFO that the test feeds: hazlua has
// opened it (the parse has begun) once the test's open for writing
// returns, and has read part of the nested blocks written to it (4 KiB
// more than the pipe holds) once the write returns; the parse then waits
// for the rest, which never comes, so the signal always finds it parsing.
func TestSignalWhileParsing(t *testing.T) {
	for _, sig := range stopSignals {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			dir := t.TempDir()
			script := mkfifo(t, dir, "build.lua")
			r := startHazlua(t, dir, nil, runOpts{})
			w := openFIFOWriter(t, script, r)
			size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
			if err != nil {
				t.Fatalf("F_GETPIPE_SZ: %v", err)
			}
			nested := []byte(strings.Repeat("do ", (size+4096)/3+1))
			if _, err := w.Write(nested); err != nil {
				t.Fatalf("writing the script: %v; stderr:\n%s", err, r.stderr)
			}
			r.signal(t, sig)
			// The bound (deadline) tells "stopped" from "went on
			// waiting for the parse", which never ends.
			lines := finish(t, r, nil, 128+int(sig), deadline)
			if len(lines) > 0 {
				t.Errorf("stderr should be empty (nothing had started, so nothing is waited for):\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// TestSignalDuringGrace: children ignore SIGTERM; one signal to hazlua
// (--grace 2s) sends them SIGTERM, waits the grace period, then SIGKILLs
// them, and hazlua exits 128+n: not before the grace period, not much
// after it, with nothing left.
func TestSignalDuringGrace(t *testing.T) {
	const child = `trap '' TERM; sleep 1000 & trap 'echo got-term >&2' TERM; echo ready; while :; do wait; done`
	modes := []struct {
		name string
		body string
		args []string
	}{
		{"top-level", `
local a = start("a", [[` + child + `]])
local b = start("b", [[` + child + `]])
print("ready")
a:wait()`, nil},
		{"tasks", `
haz.task("a", function() local p = start("a", [[` + child + `]]) print("ready") p:wait() end)
haz.task("b", function() local p = start("b", [[` + child + `]]) print("ready") p:wait() end)`, []string{"-j", "4", "a", "b"}},
	}
	for _, m := range modes {
		for i, sig := range stopSignals {
			t.Run(m.name+"/"+unix.SignalName(sig), func(t *testing.T) {
				if i > 0 {
					skipIfShort(t, "each run waits out the grace period; SIGINT stands for the others (TestSignalPhases sends each)")
				}
				t.Parallel() // each waits out the grace period
				dir := writeScript(t, m.body+"\n")
				h := newHolders(t)
				r := startHazlua(t, dir, h, runOpts{}, append([]string{"--grace", "2s"}, m.args...)...)
				if m.name == "tasks" {
					r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[a\] ready$`))
					r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[b\] ready$`))
				} else {
					r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^ready$`))
				}
				h.expect(t, r.token, "a", "b")
				sent := time.Now()
				r.signal(t, sig)
				r.stderr.waitFor(t, "stderr", regexp.MustCompile(`got-term$`))
				lines := finish(t, r, h, 128+int(sig), deadline)
				// Not a timing assertion but the point of the test: the
				// children ignore SIGTERM, so they can only have died of
				// the SIGKILL that must not come before the grace period.
				// r.ended is when hazlua exited, however late the test
				// looks.
				if took := r.ended.Sub(sent); took < 2*time.Second {
					t.Errorf("hazlua exited %s after the signal: the children (which ignore SIGTERM) were killed before the 2s grace period", took.Round(time.Millisecond))
				}
				checkErrorLine(t, lines, fmt.Sprintf(`received %s, stopping; waiting up to 2s`, unix.SignalName(sig)))
			})
		}
	}
}

// TestDaemonsLeftBehind: children that leave daemons behind, by setsid
// in the background or by a double fork whose middle process exits at
// once, some of which ignore SIGTERM, some of which fork a new daemon when
// terminated. When the run ends (normally, or on a signal), none of them
// is left (docs/api.md: Cancellation: grandchildren re-parented to hazlua are its to end).
func TestDaemonsLeftBehind(t *testing.T) {
	// daemons(name) runs a shell that leaves four daemons and exits 0:
	// one by setsid in the background; one by a double fork (the
	// subshell exits at once); one that ignores SIGTERM; one that, when
	// terminated, forks a new daemon (which inherits the FIFO) and exits.
	// Each says "up" once it holds the FIFO and has left the shell's
	// process group; the shell exits (stdin closed) only then, as a
	// process still in its group when it exits is terminated with it.
	const body = `
local function daemons(name)
  local p = haz.spawn{"sh", "-c", HOLD .. [[
    n=$0
    setsid sh -c 'echo "$0.setsid" >&9; echo up; exec sleep 1000' "$n" &
    (setsid sh -c 'echo "$0.double" >&9; echo up; exec sleep 1000' "$n" &)
    (setsid sh -c 'trap "" TERM; echo "$0.stubborn" >&9; echo up; sleep 1000 & wait' "$n" &)
    (setsid sh -c 'trap "setsid sh -c \"exec sleep 1000\" & exit 0" TERM; echo "$0.spawner" >&9; echo up; sleep 1000 & wait' "$n" &)
    read x
    exit 0
  ]], name, name = name, stdin = "pipe", stdout = "pipe"}
  local it = p:lines()
  for i = 1, 4 do
    local l = it()
    if l ~= "up" then error("daemon said " .. tostring(l)) end
  end
  p:close()
  assert(p:wait().ok)
end
`
	names := func(n string) []string {
		return []string{n, n + ".setsid", n + ".double", n + ".stubborn", n + ".spawner"}
	}
	tests := []struct {
		name string
		body string
		args []string
		sig  syscall.Signal
		want int
		slow bool // skipped with -short: the others end the same way, or in the same place
	}{
		{"run-ends/top-level", body + `
daemons("top")
print("ready")`, nil, 0, 0, false},
		{"run-ends/task", body + `
haz.task("default", function() daemons("top") print("ready") end)`, nil, 0, 0, true},
		{"SIGTERM/top-level", body + `
daemons("top")
print("ready")
haz.sleep(1000)`, nil, syscall.SIGTERM, 143, true},
		{"SIGINT/task", body + `
haz.task("default", function() daemons("top") print("ready") haz.sleep(1000) end)`, nil, syscall.SIGINT, 130, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow {
				skipIfShort(t, "each case waits out the grace period for the stubborn daemon")
			}
			t.Parallel() // the stubborn daemon makes each wait out the grace period
			dir := writeScript(t, tt.body+"\n")
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, append([]string{"--grace", "1s"}, tt.args...)...)
			r.stdout.waitFor(t, "stdout", regexp.MustCompile(`ready$`))
			h.expect(t, r.token, names("top")...)
			if tt.sig != 0 {
				r.signal(t, tt.sig)
			}
			code := r.exitCodeWithin(t, deadline)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			checkNoneLeft(t, r)
			if code != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.want, strings.Join(lines, "\n"))
			}
		})
	}
}
