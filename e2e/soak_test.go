package e2e

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Load and soak (the reliability issue, part 4). The sizes are small by
// default, so that CI runs them in seconds; the environment makes them
// full size (docs/RELIABILITY.md). They run in full mode only (not with
// -short).
//
//	HAZ_SOAK_FULL=1          all of them at full size
//	HAZ_SOAK_SPAWNS=N        TestSoakSpawns: short spawns (CI 5000, full 100000)
//	HAZ_SOAK_RUNS=N          TestSoakCancelledRuns: runs (CI 50, full 1000)
//	HAZ_SOAK_TASKS=N         TestSoakPrefixedOutput: tasks (CI 16, full 64)
//	HAZ_SOAK_TASK_BYTES=N    TestSoakPrefixedOutput: bytes per task (CI 1 MiB, full 10 MiB)

// TestSoakSpawns runs many short processes in one task (haz.run of
// /bin/true, with a haz.output, a haz.pipe and a stdin pipe now and
// then) and samples hazlua from outside at a checkpoint before and after
// them: open descriptors must be the same (± 2), resident memory must not
// grow by more than 20 MiB, and no child may be left.
func TestSoakSpawns(t *testing.T) {
	skipIfShort(t, "soak tests run in full mode only")
	n := soakSize(t, "HAZ_SOAK_SPAWNS", 5000, 100000)
	dir := writeScript(t, checkpointLua+`
local n = tonumber(haz.args[1])
local function batch(count)
  for i = 1, count do
    haz.run{"/bin/true"}
    if i % 1000 == 0 then
      assert(haz.output{"echo", i} == tostring(i))
      local pl = haz.pipe({"echo", "piped"}, {"cat"})
      assert(pl:stdout() == "piped\n" and pl:wait().ok)
      local c = haz.spawn{"cat", stdin = "pipe"}
      c:write("in\n") c:close()
      assert(c:stdout() == "in\n")
    end
  end
end
haz.task("default", function()
  batch(1000) -- warm up: the runtime's pools and threads settle
  checkpoint(1)
  batch(n)
  checkpoint(2)
end)
`)
	ans := newAnswerFIFO(t)
	r := startHazlua(t, dir, nil, runOpts{wrap: []string{"env", "HAZ_ANSWER=" + ans.path}}, "-q", "-j", "2", "--", strconv.Itoa(n))
	pid := r.cmd.Process.Pid
	perSpawn := 10 * time.Millisecond // a bound, far above the ~1ms a spawn takes
	r.stdout.waitForWithin(t, "stdout", regexp.MustCompile(`checkpoint 1$`), time.Minute)
	start := sampleProc(t, pid)
	startFds := fdTargets(pid)
	ans.answer(t, r)
	began := time.Now()
	r.stdout.waitForWithin(t, "stdout", regexp.MustCompile(`checkpoint 2$`), time.Minute+time.Duration(n)*perSpawn)
	took := time.Since(began)
	end := sampleProc(t, pid)
	kids := childrenOf(pid)
	ans.answer(t, r)
	finish(t, r, nil, 0, deadline)
	t.Logf("%d spawns in %s (%.2f ms each); at the start: %s; at the end: %s",
		n, took.Round(time.Millisecond), float64(took.Microseconds())/1000/float64(n), start, end)
	if d := end.fds - start.fds; d > 2 || d < -2 {
		t.Errorf("hazlua had %d descriptors before %d spawns and %d after (bound: ± 2)\nbefore:%s\nafter:%s", start.fds, n, end.fds, startFds, fdTargets(pid))
	}
	if growth := end.rssKiB - start.rssKiB; growth > 20<<10 {
		t.Errorf("hazlua's resident memory grew by %.1f MiB over %d spawns (bound: 20 MiB)", float64(growth)/1024, n)
	}
	if len(kids) > 0 {
		t.Errorf("hazlua still had children at the second checkpoint: %v", kids)
	}
}

// TestSoakCancelledRuns: many runs in a row, each with a tree of
// children (a daemon that left its group included) at the top level and
// in a task, each stopped by SIGTERM once everything runs: every one
// exits 143 and leaves nothing.
func TestSoakCancelledRuns(t *testing.T) {
	skipIfShort(t, "soak tests run in full mode only")
	runs := soakSize(t, "HAZ_SOAK_RUNS", 50, 1000)
	dir := writeScript(t, `
local top = start("top", TREE)
haz.task("default", function()
  local p = start("task", TREE)
  print("ready")
  p:wait()
end)
`)
	began := time.Now()
	for i := range runs {
		h := newHolders(t)
		r := startHazlua(t, dir, h, runOpts{}, "-q", "--grace", "2s")
		r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[default\] ready$`))
		h.expect(t, r.token, treeNames("top", "task")...)
		r.signal(t, syscall.SIGTERM)
		code := r.exitCodeWithin(t, deadline)
		if !h.waitGone(t, r.token) {
			t.Fatalf("run %d of %d left processes", i+1, runs)
		}
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		checkNoneLeft(t, r)
		if code != 143 {
			t.Fatalf("run %d of %d: exit status %d, want 143; stderr:\n%s", i+1, runs, code, strings.Join(lines, "\n"))
		}
		if t.Failed() {
			t.Fatalf("run %d of %d failed", i+1, runs)
		}
	}
	t.Logf("%d cancelled runs in %s", runs, time.Since(began).Round(time.Millisecond))
}

// TestSoakPrefixedOutput: many tasks at once, each with a child writing
// lines of varying length (a few MiB), in prefixed mode. Every line of
// hazlua's stdout must be "[task] <a line that task's child wrote>", and
// each task's lines must all be there, whole and in order, its final
// unterminated line included (docs/api.md: Output).
func TestSoakPrefixedOutput(t *testing.T) {
	skipIfShort(t, "soak tests run in full mode only")
	tasks := soakSize(t, "HAZ_SOAK_TASKS", 16, 64)
	perTask := soakSize(t, "HAZ_SOAK_TASK_BYTES", 1<<20, 10<<20)
	// Line i of task NAME is "NAME i " and i%200 x's: 100 bytes or so.
	lines := perTask / 110
	dir := writeScript(t, fmt.Sprintf(`
local pad = string.rep("x", 200)
for i = 1, %d do
  local name = string.format("t%%02d", i)
  haz.task(name, function()
    haz.run{"awk", "-v", "t=" .. name, "-v", "n=%d", "-v", "pad=" .. pad,
      'BEGIN { for (i = 1; i <= n; i++) printf "%%s %%d %%s\\n", t, i, substr(pad, 1, i %% 200); printf "%%s end", t }'}
  end)
end
local all = {}
for i = 1, %d do all[i] = string.format("t%%02d", i) end
haz.task("default", {deps = all})
`, tasks, lines, tasks))
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	r := startHazlua(t, dir, nil, runOpts{stdout: pw}, "-q", "-j", strconv.Itoa(tasks))
	pw.Close()

	type state struct {
		next  int  // the line number expected next
		ended bool // the final partial line came
	}
	got := map[string]*state{}
	var bad []string
	check := make(chan struct{})
	var total int64
	go func() {
		defer close(check)
		re := regexp.MustCompile(`^\[(t\d\d)\] (t\d\d) (\d+) (x*)$`)
		end := regexp.MustCompile(`^\[(t\d\d)\] (t\d\d) end$`)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			total += int64(len(line)) + 1
			if m := end.FindStringSubmatch(line); m != nil && m[1] == m[2] {
				s := got[m[1]]
				if s == nil || s.next != lines+1 || s.ended {
					bad = append(bad, fmt.Sprintf("%q came after line %v of its task", line, s))
				} else {
					s.ended = true
				}
				continue
			}
			m := re.FindStringSubmatch(line)
			if m == nil || m[1] != m[2] {
				bad = append(bad, fmt.Sprintf("not a whole line of its task: %.200q", line))
				continue
			}
			s := got[m[1]]
			if s == nil {
				s = &state{next: 1}
				got[m[1]] = s
			}
			i, _ := strconv.Atoi(m[3])
			if i != s.next || len(m[4]) != i%200 || s.ended {
				bad = append(bad, fmt.Sprintf("task %s: line %.200q, want line %d with %d x's", m[1], line, s.next, s.next%200))
			}
			s.next = i + 1
		}
		if err := sc.Err(); err != nil {
			bad = append(bad, "reading stdout: "+err.Error())
		}
	}()
	began := time.Now()
	finish(t, r, nil, 0, time.Minute+time.Duration(tasks*perTask/(1<<20))*time.Second)
	<-check
	t.Logf("%d tasks × %d lines (%.1f MiB of output) in %s", tasks, lines, float64(total)/(1<<20), time.Since(began).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d bad lines; the first:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
	for i := 1; i <= tasks; i++ {
		name := fmt.Sprintf("t%02d", i)
		s := got[name]
		switch {
		case s == nil:
			t.Errorf("task %s wrote nothing", name)
		case s.next != lines+1 || !s.ended:
			t.Errorf("task %s: %d lines of %d, end line: %v", name, s.next-1, lines, s.ended)
		}
	}
}
