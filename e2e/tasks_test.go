package e2e

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// End-to-end tests of tasks: the task cap, signals and failure policies
// with real process trees, and a task's daemon at the end of the run. The
// output modes are in output_test.go.

// TestTasksOverlap: four independent tasks that each run a 0.5 s child.
// With -j4 they overlap, proved by a rendezvous (each meets the three
// others before its sleep); with -j1 they never do, proved by a lock
// directory that each child holds while it sleeps and by a count the
// bodies keep. The elapsed time is only logged.
func TestTasksOverlap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		jobs string
		body string
		want string
	}{
		{"j4", "4", `
mkfifos("a", "b", "c", "d")
local names = {"a", "b", "c", "d"}
for _, n in ipairs(names) do
  haz.task(n, function(t)
    meet(4, t.name)
    haz.run{"sleep", "0.5"}
  end)
end
haz.task("default", {deps = names, run = function() print("4 met") end})
`, "[default] 4 met"},
		{"j1", "1", `
local running, peak = 0, 0
local names = {"a", "b", "c", "d"}
for _, n in ipairs(names) do
  haz.task(n, function(t)
    running = running + 1
    peak = math.max(peak, running)
    haz.run{"sh", "-c", "mkdir lock || exit 9; sleep 0.5; rmdir lock", name = "sleeper"}
    running = running - 1
  end)
end
haz.task("default", {deps = names, run = function() print("at most " .. peak .. " at once") end})
`, "[default] at most 1 at once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, meetLua+tt.body)
			start := time.Now()
			r := startHazlua(t, dir, nil, runOpts{}, "-q", "-j", tt.jobs)
			code := r.exitCode(t)
			lines := r.stderrLines(t)
			t.Logf("-j%s: 4 tasks of 0.5 s took %v", tt.jobs, time.Since(start).Round(time.Millisecond))
			checkNoGoTrace(t, lines)
			if code != 0 {
				t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(lines, "\n"))
			}
			if !r.stdout.waitEOF(deadline) {
				t.Fatal("stdout still open")
			}
			if out := r.stdout.String(); out != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}

// taskTreeScript runs two tasks, each with a process tree (two background
// sleeps and a daemon that left the group, see TREE) holding the FIFO, and
// a third task that depends on the first. Each running task says ready on
// stderr once its tree runs.
const taskTreeScript = `
local function tree(t)
  local p = start(t.name, TREE)
  t:log("ready")
  p:wait()
  print("not reached")
end
haz.task("t1", tree)
haz.task("t2", tree)
haz.task("after", {deps = {"t1"}, run = function() print("not reached") end})
haz.task("default", {deps = {"t1", "t2", "after"}})
`

// TestTaskSignalStopsEverything: a stopping signal while tasks run process
// trees: exit 128+n, the stopping line, each running task "interrupted" in
// the summary and the others "not run (interrupted)", and no process left
// (docs/api.md: Cancellation).
func TestTaskSignalStopsEverything(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(strings.TrimPrefix(unix.SignalName(sig), "SIG"), func(t *testing.T) {
			dir := writeScript(t, taskTreeScript)
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, "-j4", "--grace", "1s")
			r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[t1\] ready$`))
			r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[t2\] ready$`))
			h.expect(t, r.token, treeNames("t1", "t2")...)

			r.signal(t, sig)
			code := r.exitCode(t)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if want := 128 + int(sig); code != want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, want, strings.Join(lines, "\n"))
			}
			checkHasLines(t, "stderr", lines, []*regexp.Regexp{
				regexp.MustCompile(`^hazlua: received SIG` + strings.TrimPrefix(unix.SignalName(sig), "SIG") + `, stopping; .*1s`),
				summaryLine("t1", `interrupted`),
				summaryLine("t2", `interrupted`),
				summaryLine("after", `not run \(interrupted\)`),
				regexp.MustCompile(`^hazlua: 0 succeeded, 2 interrupted, 2 not run in [0-9.]+s$`),
			}, nil)
			if out := r.stdout.String(); strings.Contains(out, "not reached") {
				t.Errorf("a task went on after the signal; stdout:\n%s", out)
			}
		})
	}
}

// TestTaskStubbornChild: a task's child ignores SIGTERM. Stopped by a
// signal, hazlua SIGKILLs it after --grace; stopped by the task's timeout,
// the same after the spawn's grace. Nothing survives either way.
func TestTaskStubbornChild(t *testing.T) {
	t.Parallel()
	const stubborn = `[[trap '' TERM; sleep 1000 & echo ready; wait]]`
	t.Run("signal", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("default", function(t)
  local p = start("stubborn", `+stubborn+`)
  t:log("ready")
  p:wait()
end)
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "--grace", "0.5s")
		r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[default\] ready$`))
		h.expect(t, r.token, "stubborn")
		start := time.Now()
		r.signal(t, syscall.SIGINT)
		code := r.exitCode(t)
		h.waitGone(t, r.token)
		t.Logf("hazlua exited %v after SIGINT (grace 0.5s)", time.Since(start).Round(time.Millisecond))
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 130 {
			t.Errorf("exit status %d, want 130; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
		checkHasLines(t, "stderr", lines, []*regexp.Regexp{summaryLine("default", "interrupted")}, nil)
	})
	t.Run("timeout", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("default", {timeout = 0.5, run = function(t)
  local p = start("stubborn", `+stubborn+`, {grace = 0.3})
  p:wait()
end})
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "--grace", "60s")
		code := r.exitCode(t)
		h.expect(t, r.token, "stubborn")
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 1 {
			t.Errorf("exit status %d, want 1; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
		checkHasLines(t, "stderr", lines, []*regexp.Regexp{
			summaryLine("default", `timed out after 500ms`),
			regexp.MustCompile(`^hazlua: 0 succeeded, 1 timed out in [0-9.]+s$`),
		}, nil)
	})
}

// TestTaskSecondSignalKillsAtOnce: tasks' children ignore SIGTERM and the
// grace is a minute; a second SIGINT kills everything at once.
func TestTaskSecondSignalKillsAtOnce(t *testing.T) {
	t.Parallel()
	dir := writeScript(t, `
local function stubborn(t)
  local p = start(t.name, [[trap '' TERM; sleep 1000 & echo ready; wait]])
  t:log("ready")
  p:wait()
end
haz.task("s1", stubborn)
haz.task("s2", stubborn)
haz.task("default", {deps = {"s1", "s2"}})
`)
	h := newHolders(t)
	r := startHazlua(t, dir, h, runOpts{}, "-j2", "--grace", "60s")
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[s1\] ready$`))
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[s2\] ready$`))
	h.expect(t, r.token, "s1", "s2")
	lines := killWithSecondSignal(t, r, h, syscall.SIGINT)
	checkHasLines(t, "stderr", lines, []*regexp.Regexp{
		regexp.MustCompile(`again`),
		summaryLine("s1", "interrupted"),
		summaryLine("s2", "interrupted"),
	}, nil)
}

// TestTaskFailurePolicies: a task fails while others run process trees.
// --fail-fast cancels them at once (their trees die, the summary says
// "cancelled (fail-fast after bad)"); the default lets them finish and
// starts nothing new; -k also starts what does not depend on the failure,
// and the dependents name the root failure. Exit 1 in every case, and
// nothing survives.
func TestTaskFailurePolicies(t *testing.T) {
	t.Parallel()
	t.Run("fail-fast", func(t *testing.T) {
		dir := writeScript(t, `
local ready = 0
local function tree(t)
  local p = start(t.name, TREE)
  ready = ready + 1
  p:wait()
  print("not reached")
end
haz.task("slow1", tree)
haz.task("slow2", tree)
haz.task("bad", function()
  while ready < 2 do haz.sleep(0.01) end
  haz.run{"sh", "-c", "echo 'why it failed' >&2; exit 3", name = "checker"}
end)
haz.task("later", function() print("not reached") end)
haz.task("default", {deps = {"slow1", "slow2", "bad", "later"}})
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "-j3", "--fail-fast", "--grace", "1s")
		code := r.exitCode(t)
		h.expect(t, r.token, treeNames("slow1", "slow2")...)
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 1 {
			t.Errorf("exit status %d, want 1; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
		checkHasLines(t, "stderr", lines, []*regexp.Regexp{
			summaryLine("slow1", `cancelled \(fail-fast after bad\)`),
			summaryLine("slow2", `cancelled \(fail-fast after bad\)`),
			summaryLine("bad", `failed: build\.lua:14: haz\.run: "checker" exited with status 3`),
			regexp.MustCompile(`^  \| why it failed$`),
			summaryLine("later", `not run \(stopped after bad failed\)`),
			regexp.MustCompile(`^hazlua: 0 succeeded, 1 failed, 2 cancelled, 2 not run in [0-9.]+s$`),
		}, nil)
		if out := r.stdout.String(); strings.Contains(out, "not reached") {
			t.Errorf("stdout:\n%s", out)
		}
	})
	t.Run("default", func(t *testing.T) {
		// "slow" goes on once "bad" has failed (and a moment more, so that
		// a wrongly started "later" would be seen), then runs a child: it
		// was not cancelled.
		dir := writeScript(t, `
local failed = false
haz.task("slow", function()
  start("slow", "echo ready; exec sleep 1000")
  while not failed do haz.sleep(0.01) end
  haz.sleep(0.3)
  haz.run{"sh", "-c", HOLD .. "echo slow finished", "slowchild"}
end)
haz.task("bad", function()
  failed = true
  error("broken")
end)
haz.task("later", function() haz.run{"sh", "-c", HOLD .. "echo later ran", "later"} end)
haz.task("default", {deps = {"slow", "bad", "later"}})
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "-j2", "--grace", "1s")
		code := r.exitCode(t)
		h.expect(t, r.token, "slow", "slowchild")
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 1 {
			t.Errorf("exit status %d, want 1; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
		checkHasLines(t, "stderr", lines, []*regexp.Regexp{
			summaryLine("bad", `failed: build\.lua:12: broken`),
			summaryLine("later", `not run \(stopped after bad failed\)`),
			summaryLine("default", `not run \(dependency bad failed\)`),
			regexp.MustCompile(`^hazlua: 1 succeeded, 1 failed, 2 not run in [0-9.]+s$`),
		}, []*regexp.Regexp{regexp.MustCompile(`task slow `)})
		checkHasLines(t, "stdout", r.stdout.all(), []*regexp.Regexp{regexp.MustCompile(`^\[slow\] slow finished$`)},
			[]*regexp.Regexp{regexp.MustCompile(`later ran`)})
		if h.seen["later"] {
			t.Errorf("task later started a process after bad failed")
		}
	})
	t.Run("keep-going", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("bad", function()
  haz.run{"sh", "-c", "echo compiling; echo 'main.c:3: error' >&2; exit 1", name = "cc"}
end)
haz.task("mid", {deps = {"bad"}, run = function() print("not reached") end})
haz.task("top", {deps = {"mid"}, run = function() print("not reached") end})
haz.task("indep", function() haz.run{"sh", "-c", HOLD .. "echo indep ran", "indep"} end)
haz.task("after", {deps = {"indep"}, run = function() haz.run{"sh", "-c", HOLD .. "echo after ran", "after"} end})
haz.task("default", {deps = {"top", "after"}})
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "-j1", "-k")
		code := r.exitCode(t)
		h.expect(t, r.token, "indep", "after")
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 1 {
			t.Errorf("exit status %d, want 1; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
		checkHasLines(t, "stderr", lines, []*regexp.Regexp{
			regexp.MustCompile(`^\[bad\] main\.c:3: error$`),
			summaryLine("bad", `failed: build\.lua:4: haz\.run: "cc" exited with status 1`),
			regexp.MustCompile(`^  \| compiling$`),
			regexp.MustCompile(`^  \| main\.c:3: error$`),
			summaryLine("mid", `not run \(dependency bad failed\)`),
			summaryLine("top", `not run \(dependency bad failed\)`),
			summaryLine("default", `not run \(dependency bad failed\)`),
			regexp.MustCompile(`^hazlua: 2 succeeded, 1 failed, 3 not run in [0-9.]+s$`),
		}, []*regexp.Regexp{regexp.MustCompile(`dependency mid failed`)})
		checkHasLines(t, "stdout", r.stdout.all(), []*regexp.Regexp{
			regexp.MustCompile(`^\[indep\] indep ran$`),
			regexp.MustCompile(`^\[after\] after ran$`),
		}, []*regexp.Regexp{regexp.MustCompile(`not reached`)})
	})
	t.Run("quiet", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("default", function()
  print("some output")
  error("it broke")
end)
`)
		r := startHazlua(t, dir, nil, runOpts{}, "-q")
		code := r.exitCode(t)
		lines := r.stderrLines(t)
		if code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		if want := "hazlua: task default failed: build.lua:5: it broke"; strings.Join(lines, "\n") != want {
			t.Errorf("stderr with -q:\n%s\nwant only the error:\n%s", strings.Join(lines, "\n"), want)
		}
	})
}

// TestTaskDaemonDoesNotDelayTheEnd: a task's child leaves a daemon (TREE:
// it calls setsid, so it is out of the group, and keeps the task's output
// pipe open). It dies at the first SIGTERM, like everything else, so
// neither a SIGINT nor the normal end of the run has any reason to wait
// out the grace period (10 minutes here) before hazlua exits.
func TestTaskDaemonDoesNotDelayTheEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		sig  bool // stop the run with SIGINT once the tree runs
		want int
	}{
		{"SIGINT", `
haz.task("default", function(t)
  local p = start("tree", TREE)
  t:log("ready")
  p:wait()
end)
`, true, 130},
		{"end-of-run", `
haz.task("default", function(t)
  start("tree", TREE)
end)
`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, tt.body)
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, "--grace", "10m")
			what := "its task ended"
			if tt.sig {
				what = "SIGINT"
				r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^\[default\] ready$`))
				h.expect(t, r.token, treeNames("tree")...)
				r.signal(t, syscall.SIGINT)
			}
			from := time.Now()
			// Not a timing assertion: 10 minutes of grace against the
			// failure bound far below it, to tell "terminated" from
			// "waited the grace".
			select {
			case <-r.done:
			case <-time.After(deadline):
				t.Errorf("hazlua still runs %s after %s (grace 10m): it waits out the grace period although every process it started dies at SIGTERM; processes:%s",
					deadline, what, survivorList(r.token))
				// Two SIGINTs kill at once (the first one if not sent yet).
				r.signal(t, syscall.SIGINT)
				if !tt.sig {
					r.stderr.waitFor(t, "stderr", regexp.MustCompile(`stopping`))
					r.signal(t, syscall.SIGINT)
				}
			}
			code := r.exitCode(t)
			t.Logf("hazlua exited %v after %s", time.Since(from).Round(time.Millisecond), what)
			h.expect(t, r.token, treeNames("tree")...)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if code != tt.want && !t.Failed() {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.want, strings.Join(lines, "\n"))
			}
		})
	}
}
