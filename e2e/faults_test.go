package e2e

import (
	"bufio"
	"fmt"
	"os"
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
		code := r.exitCodeWithin(t, time.Minute)
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
		checkNoneLeft(t, r)
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
		lines := finish(t, r, nil, 0, time.Minute)
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
		finish(t, r, nil, 0, time.Minute)
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
	lines := finish(t, r, nil, 1, deadline)
	checkErrorLine(t, lines, `build\.lua:13: haz\.run: cannot start "true": argument list too long$`)
	want := []string{
		`false\tbuild\.lua:6: haz\.run: cannot start "true": argument list too long`,
		`false\tbuild\.lua:7: haz\.run: cannot start "true": argument list too long`,
		`false\tbuild\.lua:8: haz\.run: cannot start "true": argument list too long`,
		`false\tbuild\.lua:9: haz\.pipe: cannot start "cat": argument list too long`,
		`false\tbuild\.lua:10: os\.execute: cannot start "sh": argument list too long`,
		`false\tbuild\.lua:11: io\.popen: cannot start "sh": argument list too long`,
		`still works`,
	}
	checkLinesMatch(t, r.stdout.all(), want)
}

// TestFaultChildSignals: a child that dies of SIGSEGV, and writers whose
// reader exits early (yes | head -1) and die of SIGPIPE. hazlua itself
// does not die of SIGPIPE, and the results say what happened: signal
// "segv" or "pipe", no exit code; a pipeline whose early stage got SIGPIPE
// is still ok (docs/api.md: Processes).
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
	lines := finish(t, r, nil, 1, deadline)
	checkErrorLine(t, lines, `task default failed: build\.lua:\d+: haz\.run: "sh" killed by signal segv`)
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
	checkLinesMatch(t, r.stdout.all(), want)
}

// TestFaultClosedStdout: hazlua's stdout is a pipe whose reader exits
// after one line (hazlua ... | head -1), in task mode: the run stops
// with exit 141 (docs/api.md: Cancellation), or, where no write of hazlua's own failed,
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
			code := r.exitCodeWithin(t, deadline)
			h.waitGone(t, r.token)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			checkNoneLeft(t, r)
			ok := false
			for _, c := range tt.codes {
				ok = ok || code == c
			}
			if !ok {
				t.Errorf("exit status %d, want one of %v (first line was %q); stderr:\n%s", code, tt.codes, line, tail(strings.Join(lines, "\n"), 20))
			}
		})
	}
}

// TestFaultFullOutput: hazlua's stdout (or stderr) is a pipe whose reader
// is alive but never reads (a stuck pager), and hazlua is blocked writing
// to it. SIGTERM must still stop the run (docs/api.md: Cancellation: exit 143) instead of
// leaving hazlua hanging; nothing is left.
func TestFaultFullOutput(t *testing.T) {
	tests := []struct {
		name   string
		stream string // "stdout" or "stderr": the one that is full
		slow   bool   // skipped with -short: another case takes the same way out
		args   []string
		body   string
	}{
		{"stdout/top-level-print", "stdout", false, nil, `
local c = start("child", TREE)
io.stderr:write("filling\n")
while true do print("line") end`},
		{"stdout/task-print", "stdout", true, nil, `
haz.task("default", function()
  local c = start("child", TREE)
  io.stderr:write("filling\n")
  while true do print("line") end
end)`},
		{"stdout/task-child-output", "stdout", true, nil, `
haz.task("default", function()
  local c = start("child", TREE)
  io.stderr:write("filling\n")
  haz.run{"yes"}
end)`},
		// Each echoed spawn is a 120 KB line, more than a pipe holds, so
		// the first one blocks: how soon stderr is full must not depend
		// on how fast processes start (a short line per spawn of true
		// took over 20 s to fill 64 KiB with -race on a loaded machine).
		{"stderr/verbose-echo", "stderr", false, []string{"-v"}, `
local c = start("child", TREE)
local arg = string.rep("x", 60000)
print("filling")
while true do haz.run{"true", arg, arg} end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow {
				skipIfShort(t, "each case waits seconds for the forced stop")
			}
			t.Parallel() // each waits seconds for the forced stop
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
			waitBlockedOnPipe(t, r, pr)
			r.signal(t, syscall.SIGTERM)
			// hazlua gives up on the stuck write a grace period and 2 s
			// after the signal, then waits a few seconds at most for what
			// may stay stuck: well within the bound, which tells such a
			// stop from a hang.
			code := r.exitCode(t)
			h.waitGone(t, r.token)
			checkNoneLeft(t, r)
			if code != 143 {
				t.Errorf("exit status %d, want 143 (SIGTERM)", code)
			}
		})
	}
}

// waitBlockedOnPipe waits until hazlua is blocked writing to the pipe
// whose read end is pr: one of its threads sleeps in the kernel's pipe
// write (/proc/PID/task/TID/wchan), or, where wchan is hidden, the pipe
// holds all it can.
func waitBlockedOnPipe(t *testing.T, r *hazluaRun, pr *os.File) {
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
	tmp := tinyTmpfs(t, "1m")
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
		lines := finish(t, r, nil, 1, time.Minute)
		checkErrorLine(t, lines, `task default failed: build\.lua:12: haz\.output: .*no space left on device`)
		want := []string{
			`run\tfalse\tproc: capture: .*no space left on device`,
			`false\tbuild\.lua:5: haz\.output: .*no space left on device`,
			`false\tbuild\.lua:7: haz\.process:stdout: .*no space left on device`,
			`stderr\tdrained`,
			``,
			`stderr-capture\tfalse`,
			`small\tsmall captures still work`,
		}
		checkLinesMatch(t, r.stdout.all(), want)
		checkEmptyDir(t, tmp)
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
		finish(t, r, nil, 0, time.Minute)
		// 6000000 NULs, the newline that ends the partial line, "after\n".
		if n := <-count; n != 6000000+1+6 {
			t.Errorf("grouped output is %d bytes, want %d", n, 6000000+1+6)
		}
		checkEmptyDir(t, tmp)
	})
}

// checkEmptyDir fails if dir holds anything or blocks are still in use
// (a temporary file left open).
func checkEmptyDir(t *testing.T, dir string) {
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
	lines := finish(t, r, nil, 1, deadline)
	checkErrorLine(t, lines, `task default failed: build\.lua:13: haz\.run: cwd "sub": no such file or directory`)
	checkLinesMatch(t, r.stdout.all(), []string{
		`ready`,
		`true`,
		`true`,
		`child\tfalse\t1\ttouch: .*No such file or directory`,
		`false\tbuild\.lua:12: haz\.spawn: cwd "sub": no such file or directory`,
	})
}
