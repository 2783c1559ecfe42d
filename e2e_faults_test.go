package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Faults from the system (the reliability issue, part 2): the kernel says
// no (EMFILE, E2BIG, ENOSPC, ENOENT), children die of signals, readers go
// away, and hazlua's own output closes or fills. Each run ends with the
// right exit status, a clear error where one is due, no Go trace, and no
// process of the run left; nothing hangs.

// TestFaultTooManyOpenFiles: hazlua runs with 64 descriptors. A script
// spawns processes with pipes until a spawn fails: the error names the
// cause (too many open files) and the script's line; once those processes
// end, spawning works again in the same run.
func TestFaultTooManyOpenFiles(t *testing.T) {
	ulimit := []string{"sh", "-c", `ulimit -n 64 && exec "$0" "$@"`}
	t.Run("spawn", func(t *testing.T) {
		// Each process holds a pidfd and two pipes in hazlua; a wait
		// discards the rest of its stdout (left after one line) and
		// closes it.
		dir := writeScript(t, `
local ps, err = {}, nil
for i = 1, 200 do
  local name = "c" .. i
  local ok, p = pcall(haz.spawn, {"sh", "-c", HOLD .. "echo ready; exec sleep 1000", name,
    name = name, stdout = "pipe", stderr = "capture"})
  if not ok then err = p break end
  local it = p:lines()
  assert(it() == "ready", name .. " not ready")
  ps[#ps + 1] = {p = p, it = it}
end
print("spawned " .. #ps)
print("error " .. tostring(err))
for _, c in ipairs(ps) do c.p:signal("term") end
for _, c in ipairs(ps) do
  local r = c.p:wait()
  assert(r.signal == "term", "want signal term, got " .. tostring(r.signal))
end
print("again " .. haz.output{"echo", "works"})
-- As many again, less two for slack.
local again = {}
for i = 1, #ps - 2 do
  again[i] = haz.spawn{"sleep", "1000", stdout = "pipe", stderr = "capture"}
end
print("respawned " .. #again + 2)
`)
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{wrap: ulimit}, "--grace", "2s")
		code := rel2ExitWithin(t, r, time.Minute)
		m := regexp.MustCompile(`^spawned (\d+)$`).FindStringSubmatch(r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^spawned`)))
		var n int
		fmt.Sscan(m[1], &n)
		if n < 2 {
			t.Fatalf("only %d processes started under ulimit -n 64; stdout:\n%s", n, r.stdout)
		}
		var names []string
		for i := 1; i <= n; i++ {
			names = append(names, fmt.Sprint("c", i))
		}
		h.expect(t, r.token, names...)
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		rel2CheckNoneLeft(t, r)
		if code != 0 {
			t.Errorf("exit status %d, want 0; stderr:\n%s", code, strings.Join(lines, "\n"))
		}
		out := r.stdout.String()
		for _, re := range []string{
			`(?m)^error build\.lua:\d+: haz\.spawn: cannot start "c\d+": (\w+: )?too many open files$`,
			`(?m)^again works$`,
			fmt.Sprintf(`(?m)^respawned %d$`, n),
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("stdout does not match %q:\n%s", re, out)
			}
		}
	})
	// A process spawned with stdout = "pipe" that nobody reads or waits
	// for: once it has exited, its pipe must not hold a descriptor of
	// hazlua's for the rest of the run, or a long script runs out.
	t.Run("unwaited-pipes", func(t *testing.T) {
		dir := writeScript(t, `
for i = 1, 300 do
  local p = haz.spawn{"true", stdout = "pipe"}
  while p:signal(0) do haz.sleep(0.001) end
end
print("spawned 300")
`)
		r := startHazlua(t, dir, nil, runOpts{wrap: ulimit})
		lines := rel2Finish(t, r, nil, 0, time.Minute)
		if out := r.stdout.String(); out != "spawned 300" {
			t.Errorf("stdout %q, want spawned 300; stderr:\n%s", out, strings.Join(lines, "\n"))
		}
	})
	t.Run("pipe-in-task", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("default", function()
  local ps, err = {}, nil
  for i = 1, 200 do
    local ok, p = pcall(haz.pipe, {"sleep", "1000"}, {"cat"}, {"cat", stderr = "capture"})
    if not ok then err = p break end
    ps[#ps + 1] = p
  end
  print("spawned " .. #ps)
  print("error " .. tostring(err))
  local ok, perr = pcall(io.popen, "echo popen")
  print("popen " .. tostring(ok))
  for _, p in ipairs(ps) do p:signal("term") end
  for _, p in ipairs(ps) do p:wait() end
  print("again " .. haz.output{"echo", "works"})
end)
`)
		r := startHazlua(t, dir, nil, runOpts{wrap: ulimit}, "-j", "0", "-q", "--grace", "2s")
		rel2Finish(t, r, nil, 0, time.Minute)
		out := r.stdout.String()
		for _, re := range []string{
			`(?m)^\[default\] spawned [1-9]\d*$`,
			`(?m)^\[default\] error build\.lua:\d+: haz\.pipe: cannot start "(sleep|cat)": (\w+: )?too many open files$`,
			`(?m)^\[default\] again works$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("stdout does not match %q:\n%s", re, out)
			}
		}
	})
}

// TestFaultArgListTooLong: a 3 MiB argument, environment entry or shell
// command is more than exec accepts (E2BIG): every way of spawning says
// so with the script's line, and an uncaught one ends the run with exit
// 1.
func TestFaultArgListTooLong(t *testing.T) {
	dir := writeScript(t, `
local big = string.rep("x", 3 * 1024 * 1024)
local many = {}
for i = 1, 40000 do many[i] = string.rep("y", 100) end
print(pcall(haz.run, {"true", big}))
print(pcall(haz.run, {"true", unpack(many)}))
print(pcall(haz.run, {"true", env = {BIG = big}}))
print(pcall(haz.pipe, {"echo"}, {"cat", big}))
print(pcall(os.execute, "true " .. big))
print(pcall(io.popen, "true " .. big))
print(haz.output{"echo", "still works"})
haz.run{"true", big}
print("not reached")
`)
	r := startHazlua(t, dir, nil, runOpts{})
	lines := rel2Finish(t, r, nil, 1, deadline)
	rel2CheckErrorLine(t, lines, `build\.lua:13: haz\.run: cannot start "true": argument list too long$`)
	want := []string{
		`false\tbuild\.lua:6: haz\.run: cannot start "true": argument list too long`,
		`false\tbuild\.lua:7: haz\.run: cannot start "true": argument list too long`,
		`false\tbuild\.lua:8: haz\.run: cannot start "true": argument list too long`,
		`false\tbuild\.lua:9: haz\.pipe: cannot start "cat": argument list too long`,
		`false\tbuild\.lua:10: os\.execute: cannot start "sh": argument list too long`,
		`false\tbuild\.lua:11: io\.popen: cannot start "sh": argument list too long`,
		`still works`,
	}
	rel2CheckLines(t, r.stdout.all(), want)
}

// rel2CheckLines fails unless got has as many lines as want and each matches
// its regexp.
func rel2CheckLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d lines, want %d:\n%s\nwant lines matching:\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
		return
	}
	for i := range want {
		if !regexp.MustCompile("^" + want[i] + "$").MatchString(got[i]) {
			t.Errorf("line %d: %q, want %q", i+1, got[i], want[i])
		}
	}
}

// TestFaultChildSignals: a child that dies of SIGSEGV, and writers whose
// reader exits early (yes | head -1) and die of SIGPIPE. hazlua itself
// does not die of SIGPIPE, and the results say what happened: signal
// "segv" or "pipe", no exit code; a pipeline whose early stage got SIGPIPE
// is still ok (SPEC S4).
func TestFaultChildSignals(t *testing.T) {
	dir := writeScript(t, `
local r = haz.run{"sh", "-c", "kill -SEGV $$", check = false}
print("segv", r.ok, r.code, r.signal)
print(pcall(haz.run, {"sh", "-c", "kill -SEGV $$"}))
local p = haz.pipe({"yes"}, {"head", "-1"})
local pr = p:wait()
print("pipe", pr.ok, pr.stdout, pr.results[1].signal, pr.results[1].code, pr.results[2].code)
local w = haz.spawn{"yes", stdout = "pipe"}
local rd = haz.spawn{"head", "-1", stdin = w}
local wr = w:wait()
print("stdin=p", rd:wait().stdout, wr.ok, wr.signal)
local sh = haz.sh("yes | head -1")
print("sh", sh.ok)
local c = haz.spawn{"head", "-c", "1", stdin = "pipe"}
local big = string.rep("z", 1048576)
local ok, err
for i = 1, 10 do
  ok, err = c:write(big)
  if not ok then break end
end
print("write", ok, err)
print("code", c:wait().code)
haz.task("default", function() haz.run{"sh", "-c", "kill -SEGV $$"} end)
`)
	r := startHazlua(t, dir, nil, runOpts{}, "-q")
	lines := rel2Finish(t, r, nil, 1, deadline)
	rel2CheckErrorLine(t, lines, `task default failed: build\.lua:\d+: haz\.run: "sh" killed by signal segv`)
	want := []string{
		`segv\tfalse\tnil\tsegv`,
		`false\tbuild\.lua:5: haz\.run: "sh" killed by signal segv`,
		`pipe\ttrue\ty`,
		`\tpipe\tnil\t0`,
		`stdin=p\ty`,
		`\tfalse\tpipe`,
		`y`,
		`sh\ttrue`,
		`write\tnil\tbroken pipe: .*`,
		`code\t0`,
	}
	rel2CheckLines(t, r.stdout.all(), want)
}

// TestFaultClosedStdout: hazlua's stdout is a pipe whose reader exits
// after one line (hazlua ... | head -1), in task mode: the run stops
// with exit 141 (SPEC S6), or, where no write of hazlua's own failed,
// ends as the script says; never a hang, never a Go trace, nothing left.
func TestFaultClosedStdout(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		body  string
		codes []int // acceptable exit statuses
	}{
		{"prefixed-print", nil, `
haz.task("default", function()
  local c = start("child", TREE)
  local i = 0
  while true do i = i + 1 print("line " .. i) end
end)`, []int{141}},
		{"prefixed-child-output", nil, `
haz.task("default", function()
  local c = start("child", TREE)
  haz.run{"yes"}
end)`, []int{141}},
		{"grouped", []string{"-o", "grouped"}, `
haz.task("default", function()
  local c = start("child", TREE)
  haz.run{"seq", "1", "200000"}
end)`, []int{141}},
		// raw: the child writes to the pipe itself and dies of SIGPIPE;
		// hazlua wrote nothing, so haz.run's failure decides.
		{"raw-child", []string{"-o", "raw"}, `
haz.task("default", function()
  local c = start("child", TREE)
  haz.run{"yes"}
end)`, []int{1, 141}},
		{"top-level-child", nil, `
local c = start("child", TREE)
haz.run{"yes"}`, []int{1, 141}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, tt.body+"\n")
			h := newHolders(t)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			r := startHazlua(t, dir, h, runOpts{stdout: pw}, append([]string{"--grace", "2s"}, tt.args...)...)
			pw.Close()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatalf("no first line on stdout (%v); stderr:\n%s", err, r.stderr)
			}
			h.expect(t, r.token, treeNames("child")...)
			pr.Close() // head -1 exits
			code := rel2ExitWithin(t, r, deadline)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			rel2CheckNoneLeft(t, r)
			ok := false
			for _, c := range tt.codes {
				ok = ok || code == c
			}
			if !ok {
				t.Errorf("exit status %d, want one of %v (first line was %q); stderr:\n%s", code, tt.codes, line, rel2Tail(strings.Join(lines, "\n"), 20))
			}
		})
	}
}

// TestFaultFullOutput: hazlua's stdout (or stderr) is a pipe whose reader
// is alive but never reads (a stuck pager), and hazlua is blocked writing
// to it. SIGTERM must still stop the run (SPEC S6: exit 143) instead of
// leaving hazlua hanging; nothing is left.
func TestFaultFullOutput(t *testing.T) {
	tests := []struct {
		name   string
		stream string // "stdout" or "stderr": the one that is full
		args   []string
		body   string
	}{
		{"stdout/top-level-print", "stdout", nil, `
local c = start("child", TREE)
io.stderr:write("filling\n")
while true do print("line") end`},
		{"stdout/task-print", "stdout", nil, `
haz.task("default", function()
  local c = start("child", TREE)
  io.stderr:write("filling\n")
  while true do print("line") end
end)`},
		{"stdout/task-child-output", "stdout", nil, `
haz.task("default", function()
  local c = start("child", TREE)
  io.stderr:write("filling\n")
  haz.run{"yes"}
end)`},
		{"stderr/verbose-echo", "stderr", []string{"-v"}, `
local c = start("child", TREE)
print("filling")
while true do haz.run{"true"} end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, tt.body+"\n")
			h := newHolders(t)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			opt := runOpts{stdout: pw}
			other := func(r *hazluaRun) *lineLog { return r.stderr }
			if tt.stream == "stderr" {
				opt = runOpts{stderr: pw}
				other = func(r *hazluaRun) *lineLog { return r.stdout }
			}
			r := startHazlua(t, dir, h, opt, append([]string{"--grace", "1s"}, tt.args...)...)
			pw.Close()
			other(r).waitFor(t, "the other stream", regexp.MustCompile(`filling$`))
			h.expect(t, r.token, treeNames("child")...)
			rel2WaitBlockedOnPipe(t, r, pr)
			r.signal(t, syscall.SIGTERM)
			// A stop takes the grace period (1s) at most; 6s tells it
			// from a hang.
			code := rel2ExitWithin(t, r, 6*time.Second)
			h.waitGone(t, r.token)
			rel2CheckNoneLeft(t, r)
			if code != 143 {
				t.Errorf("exit status %d, want 143 (SIGTERM)", code)
			}
		})
	}
}

// rel2WaitBlockedOnPipe waits until hazlua is blocked writing to the pipe
// whose read end is pr: one of its threads sleeps in the kernel's pipe
// write (/proc/PID/task/TID/wchan), or, where wchan is hidden, the pipe
// holds all it can.
func rel2WaitBlockedOnPipe(t *testing.T, r *hazluaRun, pr *os.File) {
	t.Helper()
	pid := r.cmd.Process.Pid
	fd := int(pr.Fd())
	size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatalf("F_GETPIPE_SZ: %v", err)
	}
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		select {
		case <-r.done:
			t.Fatalf("hazlua exited before its output was full; stderr:\n%s", r.stderr)
		default:
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		wchanKnown := false
		for _, task := range tasks {
			w, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/wchan", pid, task.Name()))
			if len(w) > 0 && string(w) != "0" {
				wchanKnown = true
			}
			if strings.Contains(string(w), "pipe_w") {
				return
			}
		}
		if !wchanKnown {
			if n, err := unix.IoctlGetInt(fd, unix.TIOCINQ); err == nil && n >= size-8192 {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("hazlua never blocked writing to its full output")
}

// TestFaultCaptureDirFull: captures spill to TMPDIR past 4 MiB; here
// TMPDIR is a 1 MiB tmpfs. A capture that cannot be stored fails the
// process with a clear error (no space left on device) that haz.output,
// :stdout() and a task report; the child is drained, so nothing hangs;
// nothing is left in TMPDIR. Grouped output, which spills too, keeps
// every byte in memory instead.
func TestFaultCaptureDirFull(t *testing.T) {
	tmp := rel2TinyTmpfs(t, "1m")
	wrap := []string{"env", "TMPDIR=" + tmp}
	t.Run("capture", func(t *testing.T) {
		dir := writeScript(t, `
local r = haz.run{"head", "-c", "6000000", "/dev/zero", stdout = "capture", check = false}
print("run", r.ok, r.error)
print(pcall(haz.output, {"head", "-c", "6000000", "/dev/zero"}))
local p = haz.spawn{"sh", "-c", "head -c 6000000 /dev/zero; echo drained >&2", stderr = "capture"}
print(pcall(p.stdout, p))
print("stderr", p:stderr())
local e = haz.spawn{"sh", "-c", "head -c 6000000 /dev/zero >&2", stderr = "capture"}
print("stderr-capture", e:wait().ok)
print("small", haz.output{"echo", "small captures still work"})
haz.task("default", function() haz.output{"head", "-c", "6000000", "/dev/zero"} end)
`)
		r := startHazlua(t, dir, nil, runOpts{wrap: wrap}, "-q")
		lines := rel2Finish(t, r, nil, 1, time.Minute)
		rel2CheckErrorLine(t, lines, `task default failed: build\.lua:12: haz\.output: .*no space left on device`)
		want := []string{
			`run\tfalse\tproc: capture: .*no space left on device`,
			`false\tbuild\.lua:5: haz\.output: .*no space left on device`,
			`false\tbuild\.lua:7: haz\.process:stdout: .*no space left on device`,
			`stderr\tdrained`,
			``,
			`stderr-capture\tfalse`,
			`small\tsmall captures still work`,
		}
		rel2CheckLines(t, r.stdout.all(), want)
		rel2CheckEmptyDir(t, tmp)
	})
	t.Run("grouped", func(t *testing.T) {
		dir := writeScript(t, `
haz.task("default", function() haz.run{"head", "-c", "6000000", "/dev/zero"} print("after") end)
`)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		r := startHazlua(t, dir, nil, runOpts{wrap: wrap, stdout: pw}, "-q", "-o", "grouped")
		pw.Close()
		count := make(chan int64, 1)
		go func() {
			var n int64
			buf := make([]byte, 1<<16)
			for {
				k, err := pr.Read(buf)
				n += int64(k)
				if err != nil {
					count <- n
					return
				}
			}
		}()
		rel2Finish(t, r, nil, 0, time.Minute)
		// 6000000 NULs, the newline that ends the partial line, "after\n".
		if n := <-count; n != 6000000+1+6 {
			t.Errorf("grouped output is %d bytes, want %d", n, 6000000+1+6)
		}
		rel2CheckEmptyDir(t, tmp)
	})
}

// rel2CheckEmptyDir fails if dir holds anything or blocks are still in use
// (a temporary file left open).
func rel2CheckEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	if len(ents) > 0 {
		t.Errorf("%s is not empty after the run: %v", dir, ents)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Bfree != st.Blocks {
		t.Errorf("%s still has %d blocks in use after the run", dir, st.Blocks-st.Bfree)
	}
}

// TestFaultCwdRemoved: the working directory of a running child is
// removed under it (its own failure is its business), and later spawns
// in it fail with a clear error naming the directory and the line.
func TestFaultCwdRemoved(t *testing.T) {
	dir := writeScript(t, `
haz.fs.mkdir("sub")
local p = haz.spawn{"sh", "-c", "echo ready; read x; touch x", cwd = "sub", stdin = "pipe", stdout = "pipe", stderr = "capture"}
local it = p:lines()
print(it())
print(haz.fs.remove("sub", {recursive = true}))
print(p:write("go\n"))
p:close()
local r = p:wait()
print("child", r.ok, r.code, (r.stderr:gsub("\n", "")))
print(pcall(haz.spawn, {"true", cwd = "sub"}))
haz.task("default", function() haz.run{"true", cwd = "sub"} end)
`)
	r := startHazlua(t, dir, nil, runOpts{}, "-q")
	lines := rel2Finish(t, r, nil, 1, deadline)
	rel2CheckErrorLine(t, lines, `task default failed: build\.lua:13: haz\.run: cwd "sub": no such file or directory`)
	rel2CheckLines(t, r.stdout.all(), []string{
		`ready`,
		`true`,
		`true`,
		`child\tfalse\t1\ttouch: .*No such file or directory`,
		`false\tbuild\.lua:12: haz\.spawn: cwd "sub": no such file or directory`,
	})
}

// Signals and supervision (the reliability issue, part 3): every stopping
// signal at every phase of a run, the grace period, daemons.

// rel2PhaseSignals are the signals sent at each phase.
var rel2PhaseSignals = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// rel2SigName is "SIGINT", "SIGTERM" or "SIGHUP".
func rel2SigName(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[sig]
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
		for _, sig := range rel2PhaseSignals {
			t.Run(ph.name+"/"+rel2SigName(sig), func(t *testing.T) {
				dir := writeScript(t, ph.body+"\n")
				h := newHolders(t)
				r := startHazlua(t, dir, h, runOpts{}, append([]string{"--grace", "2s"}, ph.args...)...)
				r.stdout.waitFor(t, "stdout", regexp.MustCompile(`ready$`))
				if ph.ready != nil {
					ph.ready(t, r, h)
				}
				h.expect(t, r.token, ph.holders...)
				r.signal(t, sig)
				lines := rel2Finish(t, r, h, 128+int(sig), deadline)
				rel2CheckErrorLine(t, lines, fmt.Sprintf(`received %s, stopping; waiting up to 2s`, rel2SigName(sig)))
				if strings.Contains(r.stdout.String(), "second ran") {
					t.Errorf("a task ran after the signal")
				}
			})
		}
	}
}

// TestSignalWhileParsing: a signal while hazlua parses and compiles a
// script (here a pathologically nested one, which takes minutes) stops the
// run promptly with 128+n, as at any other phase; a load that fails first
// (a nesting limit) must fail cleanly with exit 2.
func TestSignalWhileParsing(t *testing.T) {
	const depth = 100000
	src := []byte(strings.Repeat("do ", depth) + strings.Repeat(" end", depth) + "\n")
	for _, sig := range rel2PhaseSignals {
		t.Run(rel2SigName(sig), func(t *testing.T) {
			dir := rel2WriteRaw(t, src)
			script := filepath.Join(dir, "build.lua")
			r := startHazlua(t, dir, nil, runOpts{})
			// The script is open while it is parsed and compiled.
			for !rel2HasOpen(r.cmd.Process.Pid, script) {
				select {
				case <-r.done:
					lines := rel2Finish(t, r, nil, 2, deadline)
					rel2CheckErrorLine(t, lines, `build\.lua:\d+: `)
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
			r.signal(t, sig)
			// 5s tells "stopped" from "went on parsing for minutes".
			code := rel2ExitWithin(t, r, 5*time.Second)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if code != 128+int(sig) && code != 2 {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, 128+int(sig), strings.Join(lines, "\n"))
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
		for _, sig := range rel2PhaseSignals {
			t.Run(m.name+"/"+rel2SigName(sig), func(t *testing.T) {
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
				select {
				case <-r.done:
					t.Fatalf("hazlua exited before the grace period was over; stderr:\n%s", r.stderr)
				default:
				}
				lines := rel2Finish(t, r, h, 128+int(sig), deadline)
				// Not a timing assertion but the point of the test: the
				// children ignore SIGTERM, so they can only have died of
				// the SIGKILL that must not come before the grace period.
				if took := time.Since(sent); took < 2*time.Second {
					t.Errorf("hazlua exited %s after the signal: the children (which ignore SIGTERM) were killed before the 2s grace period", took.Round(time.Millisecond))
				}
				rel2CheckErrorLine(t, lines, fmt.Sprintf(`received %s, stopping; waiting up to 2s`, rel2SigName(sig)))
			})
		}
	}
}

// TestDaemonsLeftBehind: children that leave daemons behind, by setsid
// in the background or by a double fork whose middle process exits at
// once, some of which ignore SIGTERM, some of which fork a new daemon when
// terminated. When the run ends (normally, or on a signal), none of them
// is left (SPEC S6: grandchildren re-parented to hazlua are its to end).
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
	}{
		{"run-ends/top-level", body + `
daemons("top")
print("ready")`, nil, 0, 0},
		{"run-ends/task", body + `
haz.task("default", function() daemons("top") print("ready") end)`, nil, 0, 0},
		{"SIGTERM/top-level", body + `
daemons("top")
print("ready")
haz.sleep(1000)`, nil, syscall.SIGTERM, 143},
		{"SIGINT/task", body + `
haz.task("default", function() daemons("top") print("ready") haz.sleep(1000) end)`, nil, syscall.SIGINT, 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeScript(t, tt.body+"\n")
			h := newHolders(t)
			r := startHazlua(t, dir, h, runOpts{}, append([]string{"--grace", "1s"}, tt.args...)...)
			r.stdout.waitFor(t, "stdout", regexp.MustCompile(`ready$`))
			h.expect(t, r.token, names("top")...)
			if tt.sig != 0 {
				r.signal(t, tt.sig)
			}
			code := rel2ExitWithin(t, r, deadline)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			rel2CheckNoneLeft(t, r)
			if code != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.want, strings.Join(lines, "\n"))
			}
		})
	}
}
