package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// End-to-end tests of the hazlua command: real processes, real signals
// (SPEC S2, S3, S6, S9). Helpers and the technique that proves that no
// process survives are in e2e_helpers_test.go.

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
// script waits with live process trees, and checks SPEC S6: exit 128+n,
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

// checkStoppingLine checks that stderr is exactly one line, saying that
// hazlua is stopping and how long it waits (grace).
func checkStoppingLine(t *testing.T, lines []string, grace string) {
	t.Helper()
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines, want one line saying hazlua is stopping:\n%s", len(lines), strings.Join(lines, "\n"))
		return
	}
	if !strings.HasPrefix(lines[0], "hazlua: ") || !strings.Contains(lines[0], "stopping") || !strings.Contains(lines[0], grace) {
		t.Errorf("stderr line %q does not say (as \"hazlua: ...\") that hazlua is stopping and waits up to %s", lines[0], grace)
	}
}

// TestSecondSignalKillsAtOnce: children ignore SIGTERM and the grace period
// is a minute; the first SIGINT starts the stop (and says so), a second one
// SIGKILLs everything at once (SPEC S6).
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
// once) makes the exit status 128+n, which beats 1 (SPEC S2), but the
// script's error must still be reported (SPEC S2: errors go to stderr).
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
// children die with it (parent-death signal, SPEC S6). Grandchildren may
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

// TestClosedOutput: hazlua's own stdout, or stderr, is a pipe whose reader
// goes away (`hazlua | head -1`). The run stops as for SIGTERM (SPEC S6),
// with exit 141, no Go trace, and nothing left.
func TestClosedOutput(t *testing.T) {
	t.Run("stdout", func(t *testing.T) {
		dir := writeScript(t, `
local c = start("child", TREE)
local i = 0
while true do
  i = i + 1
  print("line " .. i)
end
`)
		h := newHolders(t)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		r := startHazlua(t, dir, h, runOpts{stdout: pw}, "--grace", "3s")
		pw.Close()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil || line != "line 1\n" {
			t.Fatalf("first line of stdout: %q, %v; stderr:\n%s", line, err, r.stderr)
		}
		h.expect(t, r.token, treeNames("child")...)
		pr.Close() // like head -1 exiting
		code := r.exitCode(t)
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 141 {
			t.Errorf("exit status %d, want 141 (128+SIGPIPE); stderr:\n%s", code, strings.Join(lines, "\n"))
		}
	})
	t.Run("stderr", func(t *testing.T) {
		// -v writes a line to stderr for every spawn.
		dir := writeScript(t, `
local c = start("child", TREE)
while true do
  haz.run{"true"}
end
`)
		h := newHolders(t)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		r := startHazlua(t, dir, h, runOpts{stderr: pw}, "-v", "--grace", "3s")
		pw.Close()
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stderr ended (%v) before a spawn of true was echoed", err)
			}
			if strings.Contains(line, "true") {
				break
			}
		}
		h.expect(t, r.token, treeNames("child")...)
		pr.Close()
		code := r.exitCode(t)
		h.waitGone(t, r.token)
		if code != 141 {
			t.Errorf("exit status %d, want 141 (128+SIGPIPE)", code)
		}
	})
}

// TestIgnoredSignalsAtStart: hazlua started with SIGHUP, SIGINT, SIGQUIT
// and SIGPIPE ignored (nohup, a background job of a script). Its children
// still start with default dispositions and an empty signal mask (SPEC
// S4), and SIGHUP stays ignored (SPEC S6): a SIGHUP then a SIGTERM stop the
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

// TestLargeOutput: 16 MiB of random bytes (NULs, no final newline) on a
// child's stdout and stderr at once, captured without deadlock or a lost
// byte; and 16 MiB through a three-stage haz.pipe. The script writes what
// it got to files that the test compares byte for byte (SPEC S9).
func TestLargeOutput(t *testing.T) {
	const size = 16 << 20
	dir := writeScript(t, `
local p = haz.spawn{"sh", "-c", "cat out.bin & cat err.bin >&2; wait", stderr = "capture"}
local r = p:wait()
assert(r.ok, "child failed")
assert(haz.fs.write("got-out.bin", r.stdout))
local f = assert(io.open("got-err.bin", "wb"))
f:write(p:stderr())
f:close()
assert(p:stdout() == r.stdout, ":stdout() differs from the result's stdout")

local pl = haz.pipe({"cat", stdin = {file = "in.bin"}}, {"cat"}, {"cat"})
local data = pl:stdout()
local pr = pl:wait()
assert(pr.ok, "pipeline failed")
assert(#pr.results == 3, "want 3 stage results")
assert(haz.fs.write("got-pipe.bin", data))
print("done")
`)
	rng := rand.NewChaCha8([32]byte{'h', 'a', 'z'})
	want := map[string][]byte{}
	for _, name := range []string{"out.bin", "err.bin", "in.bin"} {
		b := make([]byte, size)
		rng.Read(b)
		b[size-1] = 0 // and no final newline
		want[name] = b
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := startHazlua(t, dir, nil, runOpts{})
	code := r.exitCode(t)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(lines, "\n"))
	}
	for got, src := range map[string]string{"got-out.bin": "out.bin", "got-err.bin": "err.bin", "got-pipe.bin": "in.bin"} {
		t.Run(got, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, got))
			if err != nil {
				t.Fatal(err)
			}
			if err := sameBytes(b, want[src]); err != nil {
				t.Errorf("%s differs from %s: %v", got, src, err)
			}
		})
	}
}

// sameBytes describes the first difference between got and want.
func sameBytes(got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return fmt.Errorf("%d bytes, want %d; first difference at byte %d (%#x, want %#x)", len(got), len(want), i, got[i], want[i])
		}
	}
	return fmt.Errorf("%d bytes, want %d; the shorter is a prefix of the longer", len(got), len(want))
}
