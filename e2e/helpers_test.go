// Package e2e runs the hazlua command as users do, on real scripts, with
// real processes, files and signals, and proves that no process it started
// survives it. One file per feature (spawn, pipes, fs, output, tasks,
// signals, faults, terminal, hostile scripts, soak); the helpers they
// share are all in this file.
//
// # Proving that nothing survives
//
// hazlua gives its children only fds 0, 1 and 2 (and a jobserver client,
// such as make, 3 and 4), and what those are
// depends on the spawn options, so the tests do not rely on them. Instead
// each test makes a FIFO (holders) and passes its path to hazlua in the
// environment as HAZ_FIFO. Every shell that the script starts and that must
// not survive runs `exec 9>"$HAZ_FIFO"` first, so that it and every process
// it starts afterwards (background jobs, a child that calls setsid, exec'd
// programs) hold the FIFO's write end on fd 9, then writes its name to it.
// The test holds the only read end. Once the script says it is ready, the
// test has read every expected name, so every holder has opened the FIFO;
// from then on, end of file on the read end means that every holder has
// exited: the kernel keeps the write end open for as long as one process
// holds it, whatever that process's process group, session or parent, and
// even while it is stopped. Waiting for end of file needs no sleeping and
// no polling, and has a deadline only as a failure bound.
//
// As a second line of defence, every process started by a test carries
// HAZ_E2E_TOKEN=<unique> in its environment: checkNoneLeft fails if one
// is alive once hazlua has exited (the check for runs whose children are
// too many, or too short-lived, to hold the FIFO), survivorList lists them
// for failure messages, and the test's cleanup SIGKILLs them, so a failing
// test leaks nothing either.
//
// # Fast and full runs
//
// `go test -short` skips what takes seconds and is covered by a faster
// test (skipIfShort): the hostile scripts and the soak, and the repeats of
// a scenario under each signal. The default run runs everything, the soak
// at its CI size (see soak_test.go).
package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hazlua/hazlua/internal/testutil"
)

// hazluaBin is the hazlua binary that TestMain builds (with -race when the
// tests are).
var hazluaBin string

func TestMain(m *testing.M) { testutil.MainWithHazlua(m, &hazluaBin) }

// deadline bounds every wait of the end-to-end tests. It is a failure
// bound, never a way to let something happen: normal runs take well under
// a second per wait.
const deadline = 20 * time.Second

// skipIfShort skips a test, or a repeat of a scenario, that takes seconds
// and that a faster test covers, when the tests run with -short.
func skipIfShort(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped with -short: " + why)
	}
}

// stopSignals are the signals that stop a run, sent in turn by the tests
// of each phase of a run.
var stopSignals = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// Running hazlua.

// hazluaRun is one hazlua process under test.
type hazluaRun struct {
	cmd    *exec.Cmd
	token  string
	stdout *lineLog // nil when the test passed its own stdout
	stderr *lineLog
	done   chan struct{} // closed when cmd.Wait returned
	err    error         // cmd.Wait's result, once done is closed
	ended  time.Time     // when cmd.Wait returned, once done is closed
}

// runOpts are the less common settings of startHazlua.
type runOpts struct {
	// stdout, if not nil, is hazlua's stdout (the test owns it and closes
	// its copy after the start); else a pipe read into hazluaRun.stdout.
	stdout *os.File
	// stderr is the same for stderr; then hazluaRun.stderr is empty.
	stderr *os.File
	// wrap, if not nil, is a command (like "sh -c ...") that starts hazlua
	// by exec'ing "$0" "$@" with hazlua's path and arguments, to change
	// what hazlua inherits (ignored signals, limits, environment).
	wrap []string
}

// startHazlua starts hazlua with args in dir, with HAZ_FIFO naming h's
// FIFO (h may be nil) and a unique HAZ_E2E_TOKEN in the environment.
// hazlua leads its own process group, so that no signal meant for it (or
// sent by it by mistake) reaches the test. Cleanup kills whatever the run
// left behind.
func startHazlua(t *testing.T, dir string, h *holders, opt runOpts, args ...string) *hazluaRun {
	t.Helper()
	r := &hazluaRun{token: fmt.Sprintf("%d-%d-%s", os.Getpid(), time.Now().UnixNano(), strings.ReplaceAll(t.Name(), "/", ".")), done: make(chan struct{})}
	argv := append([]string{hazluaBin}, args...)
	if opt.wrap != nil {
		argv = append(append([]string(nil), opt.wrap...), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HAZ_E2E_TOKEN="+r.token, "NO_COLOR=1", "GORACE="+testutil.GoraceEnv())
	if h != nil {
		cmd.Env = append(cmd.Env, "HAZ_FIFO="+h.path)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	// stdout and stderr are pipes made here, handed to hazlua as files
	// (so exec.Cmd starts no copying goroutine and Wait never waits for a
	// survivor to close them) and read into lineLogs.
	var closeAfterStart []*os.File
	if opt.stdout != nil {
		cmd.Stdout = opt.stdout
	} else {
		or, ow, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = ow
		closeAfterStart = append(closeAfterStart, ow)
		r.stdout = newLineLog(or)
		t.Cleanup(func() { or.Close() })
	}
	if opt.stderr != nil {
		cmd.Stderr = opt.stderr
		r.stderr = newLineLog(strings.NewReader(""))
	} else {
		er, ew, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = ew
		closeAfterStart = append(closeAfterStart, ew)
		r.stderr = newLineLog(er)
		t.Cleanup(func() { er.Close() })
	}

	err := cmd.Start()
	for _, f := range closeAfterStart {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the pipes' cleanups, so it runs before them: the
	// survivors holding the pipes die first.
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Kill()
			<-r.done
		}
		killSurvivors(r.token)
	})
	r.cmd = cmd
	go func() {
		r.err = cmd.Wait()
		r.ended = time.Now()
		close(r.done)
	}()
	return r
}

// signal sends sig to hazlua (the process only, as kill(1) would).
func (r *hazluaRun) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("kill -%d hazlua: %v", sig, err)
	}
}

// wait waits for hazlua to exit and returns its wait status. After the
// deadline it fails the test (cleanup kills hazlua).
func (r *hazluaRun) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	return r.waitWithin(t, deadline)
}

// waitWithin is wait with a bound of d, for runs that are slow by design.
func (r *hazluaRun) waitWithin(t *testing.T, d time.Duration) syscall.WaitStatus {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		t.Fatalf("hazlua did not exit within %s; stderr so far:\n%s\nprocesses: %s", d, tail(r.stderr.String(), 40), survivorList(r.token))
	}
	var ee *exec.ExitError
	if r.err != nil && !errors.As(r.err, &ee) {
		t.Fatalf("waiting for hazlua: %v", r.err)
	}
	return r.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// exitCode waits for hazlua to exit and returns its exit status; being
// killed by a signal fails the test.
func (r *hazluaRun) exitCode(t *testing.T) int {
	t.Helper()
	return r.exitCodeWithin(t, deadline)
}

// exitCodeWithin is exitCode with a bound of d.
func (r *hazluaRun) exitCodeWithin(t *testing.T, d time.Duration) int {
	t.Helper()
	ws := r.waitWithin(t, d)
	if ws.Signaled() {
		t.Fatalf("hazlua was killed by signal %v (a Go runtime crash, or a signal it should have caught); stderr:\n%s", ws.Signal(), tail(r.stderr.String(), 40))
	}
	return ws.ExitStatus()
}

// stderrLines waits (boundedly) for hazlua's stderr to end, which it does
// once hazlua and every process that inherited it have exited, and returns
// its lines.
func (r *hazluaRun) stderrLines(t *testing.T) []string {
	t.Helper()
	if !r.stderr.waitEOF(deadline) {
		t.Errorf("hazlua's stderr is still open %s after it exited: a process that inherited it survived: %s", deadline, survivorList(r.token))
	}
	return r.stderr.all()
}

// runScript runs hazlua in dir (see writeScript) to its end and returns
// its exit status, stdout and stderr lines, after checking that stderr
// shows no Go trace.
func runScript(t *testing.T, dir string, opt runOpts, args ...string) (code int, stdout, stderr []string) {
	t.Helper()
	r := startHazlua(t, dir, nil, opt, args...)
	code = r.exitCode(t)
	stderr = r.stderrLines(t)
	checkNoGoTrace(t, stderr)
	if r.stdout != nil {
		if !r.stdout.waitEOF(deadline) {
			t.Fatalf("hazlua's stdout is still open %s after it exited", deadline)
		}
		stdout = r.stdout.all()
	}
	return code, stdout, stderr
}

// finish waits (up to d) for a run to end and checks what every scenario
// must hold: exit status want, no Go trace on stderr, and no process of
// the run left (the FIFO, when h is not nil and holders registered, and
// the environment token in every case). It returns stderr's lines.
func finish(t *testing.T, r *hazluaRun, h *holders, want int, d time.Duration) []string {
	t.Helper()
	code := r.exitCodeWithin(t, d)
	if h != nil {
		h.waitGone(t, r.token)
	}
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	checkNoneLeft(t, r)
	if code != want {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, want, tail(strings.Join(lines, "\n"), 40))
	}
	return lines
}

// killWithSecondSignal sends SIGINT, checks that hazlua announces the stop
// but keeps waiting (its children ignore SIGTERM and the grace is far
// longer than any wait of the test), then sends second and checks that
// everything dies at once, with exit 130 and no Go trace. It returns
// hazlua's stderr lines.
func killWithSecondSignal(t *testing.T, r *hazluaRun, h *holders, second syscall.Signal) []string {
	t.Helper()
	r.signal(t, syscall.SIGINT)
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`stopping`))
	select {
	case <-r.done:
		t.Fatalf("hazlua exited after the first SIGINT although its children ignore SIGTERM and the grace is long; stderr:\n%s", r.stderr)
	default:
	}
	r.signal(t, second)
	// exitCode's bound (deadline) is far below the grace the tests give,
	// so it tells "killed at once" from "waited the grace".
	code := r.exitCode(t)
	h.waitGone(t, r.token)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 130 {
		t.Errorf("exit status %d, want 130 (the first signal, SIGINT, decides); stderr:\n%s", code, strings.Join(lines, "\n"))
	}
	return lines
}

// Holders of the FIFO.

// holders is the read end of a FIFO that the processes under test hold
// open for writing (see the package comment).
type holders struct {
	path string
	f    *os.File
	br   *bufio.Reader
	seen map[string]bool
}

// newHolders makes a FIFO in a new temporary directory and opens its read
// end, without blocking (there is no writer yet).
func newHolders(t *testing.T) *holders {
	t.Helper()
	path := mkfifo(t, t.TempDir(), "holders.fifo")
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer. The file is then in Go's poller, so reads wait without a
	// thread and honour SetReadDeadline.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &holders{path: path, f: f, br: bufio.NewReader(f), seen: map[string]bool{}}
}

// expect reads the names written by holders until every name in want has
// been seen. Call it only once the holders are known to have opened the
// FIFO (the script said it is ready, or hazlua has exited): before any
// writer opens it, a FIFO reads as empty.
func (h *holders) expect(t *testing.T, token string, want ...string) {
	t.Helper()
	h.f.SetReadDeadline(time.Now().Add(deadline))
	defer h.f.SetReadDeadline(time.Time{})
	for {
		missing := []string{}
		for _, w := range want {
			if !h.seen[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return
		}
		line, err := h.br.ReadString('\n')
		if line = strings.TrimSuffix(line, "\n"); line != "" {
			h.seen[line] = true
			continue
		}
		if err != nil {
			var seen []string
			for k := range h.seen {
				seen = append(seen, k)
			}
			t.Fatalf("holders %v never opened the FIFO (read: %v; seen: %v; processes: %s)", missing, err, seen, survivorList(token))
		}
	}
}

// waitGone waits for end of file on the FIFO: every process that held its
// write end has exited. It reports (with the processes left) and returns
// false after the deadline.
func (h *holders) waitGone(t *testing.T, token string) bool {
	t.Helper()
	h.f.SetReadDeadline(time.Now().Add(deadline))
	defer h.f.SetReadDeadline(time.Time{})
	for {
		line, err := h.br.ReadString('\n')
		if line = strings.TrimSuffix(line, "\n"); line != "" {
			h.seen[line] = true
		}
		if err == io.EOF {
			return true
		}
		if err != nil {
			t.Errorf("processes outlived hazlua: the FIFO is still held open %s after it exited (%v); processes of this test still alive: %s",
				deadline, err, survivorList(token))
			return false
		}
	}
}

// Lines of hazlua's output.

// lineLog collects the lines of a stream (hazlua's stdout or stderr) as
// they arrive, for tests to wait for.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	eof   bool
	grew  chan struct{} // closed and replaced when lines or eof change
}

func newLineLog(r io.Reader) *lineLog {
	l := &lineLog{grew: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			close(l.grew)
			l.grew = make(chan struct{})
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.eof = true
		close(l.grew)
		l.grew = make(chan struct{})
		l.mu.Unlock()
	}()
	return l
}

// waitFor waits for a line matching re and returns it; it fails the test
// at end of file or after the deadline.
func (l *lineLog) waitFor(t *testing.T, what string, re *regexp.Regexp) string {
	t.Helper()
	return l.waitForWithin(t, what, re, deadline)
}

// waitForWithin is waitFor with a bound of d, for runs that are slow by
// design.
func (l *lineLog) waitForWithin(t *testing.T, what string, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for i := 0; ; {
		l.mu.Lock()
		for ; i < len(l.lines); i++ {
			if re.MatchString(l.lines[i]) {
				s := l.lines[i]
				l.mu.Unlock()
				return s
			}
		}
		eof, grew := l.eof, l.grew
		l.mu.Unlock()
		if eof {
			t.Fatalf("%s ended without a line matching %q; it had:\n%s", what, re, tail(l.String(), 40))
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("no line matching %q on %s after %s; it had:\n%s", re, what, d, tail(l.String(), 40))
		}
	}
}

// waitEOF waits for the end of the stream, at most d, and reports whether
// it came.
func (l *lineLog) waitEOF(d time.Duration) bool {
	timeout := time.After(d)
	for {
		l.mu.Lock()
		eof, grew := l.eof, l.grew
		l.mu.Unlock()
		if eof {
			return true
		}
		select {
		case <-grew:
		case <-timeout:
			return false
		}
	}
}

// all returns the lines so far.
func (l *lineLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *lineLog) String() string { return strings.Join(l.all(), "\n") }

// Checks.

// checkNoGoTrace fails if stderr looks like a Go panic, a goroutine dump,
// or a race report.
func checkNoGoTrace(t *testing.T, lines []string) {
	t.Helper()
	text := strings.Join(lines, "\n")
	for _, bad := range []string{"goroutine ", "panic", "SIGQUIT: quit", "WARNING: DATA RACE", "fatal error"} {
		if strings.Contains(text, bad) {
			t.Errorf("stderr has %q (a Go trace must never be shown):\n%s", bad, text)
			return
		}
	}
}

// checkNoneLeft fails if a process of the run (one with its
// HAZ_E2E_TOKEN) is alive. Call it once hazlua has exited: from then on
// nothing it started may run (docs/design.md, supervision).
func checkNoneLeft(t *testing.T, r *hazluaRun) {
	t.Helper()
	if pids := survivors(r.token); len(pids) > 0 {
		t.Errorf("%d processes started by the run are alive after hazlua exited: %s", len(pids), survivorList(r.token))
	}
}

// checkErrorLine fails unless stderr has a line "hazlua: <re>" (re is
// matched against the rest of the line): the one clear error line a
// failing run prints.
func checkErrorLine(t *testing.T, lines []string, re string) {
	t.Helper()
	rx := regexp.MustCompile(`^hazlua: ` + re)
	if !hasLine(lines, rx) {
		t.Errorf("stderr has no line matching %q:\n%s", rx, tail(strings.Join(lines, "\n"), 40))
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

// checkLinesMatch fails unless got has as many lines as want and each
// matches its regexp (anchored at both ends).
func checkLinesMatch(t *testing.T, got, want []string) {
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

// checkHasLines fails for each regexp of want that no line matches, and
// for each of notWant that one does.
func checkHasLines(t *testing.T, what string, lines []string, want, notWant []*regexp.Regexp) {
	t.Helper()
	for _, re := range want {
		if !hasLine(lines, re) {
			t.Errorf("%s has no line matching %q:\n%s", what, re, strings.Join(lines, "\n"))
		}
	}
	for _, re := range notWant {
		if hasLine(lines, re) {
			t.Errorf("%s has a line matching %q:\n%s", what, re, strings.Join(lines, "\n"))
		}
	}
}

// hasLine reports whether one of lines matches re.
func hasLine(lines []string, re *regexp.Regexp) bool {
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// summaryLine returns a regexp matching a whole summary line "hazlua:
// task NAME REST" of stderr, REST being a regexp.
func summaryLine(name, rest string) *regexp.Regexp {
	return regexp.MustCompile(`^hazlua: task ` + regexp.QuoteMeta(name) + ` ` + rest + `$`)
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

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// Processes, seen from /proc.

// survivors returns the pids of the live processes whose environment has
// HAZ_E2E_TOKEN=token, hazlua itself included while it runs. Zombies have
// no environment left and are not listed.
func survivors(token string) []int {
	needle := []byte("HAZ_E2E_TOKEN=" + token + "\x00")
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && bytes.Contains(env, needle) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// survivorList describes the survivors for a failure message.
func survivorList(token string) string {
	pids := survivors(token)
	if len(pids) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		fields := ""
		if st, err := readStat(pid); err == nil {
			fields = fmt.Sprintf(" state=%s ppid=%d pgrp=%d sid=%d", st.state, st.ppid, st.pgrp, st.sid)
		}
		fmt.Fprintf(&b, "\n  pid %d%s: %s", pid, fields, strings.Join(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), " "))
	}
	return b.String()
}

// killSurvivors SIGKILLs every process of a test run (see survivors). A
// pidfd pins each process while its environment is checked again, so a
// reused pid is never signalled.
func killSurvivors(token string) {
	needle := []byte("HAZ_E2E_TOKEN=" + token + "\x00")
	for range 10 {
		pids := survivors(token)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue
			}
			if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err == nil && bytes.Contains(env, needle) {
				_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			}
			unix.Close(fd)
		}
		time.Sleep(10 * time.Millisecond) // let the kernel finish the kills before looking again
	}
}

// procStat is what a line of /proc/PID/stat says about a process.
type procStat struct {
	pid             int
	comm            string
	state           string // R, S, Z, ...
	ppid, pgrp, sid int
}

// parseStat parses "pid (comm) state ppid pgrp session ...".
func parseStat(line string) (procStat, error) {
	open, closing := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("not a stat line: %q", line)
	}
	var st procStat
	var err error
	if st.pid, err = strconv.Atoi(strings.TrimSpace(line[:open])); err != nil {
		return st, err
	}
	st.comm = line[open+1 : closing]
	f := strings.Fields(line[closing+1:])
	if len(f) < 4 {
		return st, fmt.Errorf("short stat line: %q", line)
	}
	st.state = f[0]
	for i, p := range []*int{&st.ppid, &st.pgrp, &st.sid} {
		if *p, err = strconv.Atoi(f[i+1]); err != nil {
			return st, err
		}
	}
	return st, nil
}

// readStat reads and parses /proc/PID/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// childrenOf returns pid's children that are not zombies.
func childrenOf(pid int) []int {
	var kids []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(b)) {
			k, _ := strconv.Atoi(f)
			if st, err := readStat(k); err == nil && st.state != "Z" {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// procSample is what /proc says about a process at one moment.
type procSample struct {
	fds     int   // open descriptors (/proc/PID/fd)
	rssKiB  int64 // VmRSS
	threads int   // Threads
}

func (s procSample) String() string {
	return fmt.Sprintf("%d fds, RSS %.1f MiB, %d threads", s.fds, float64(s.rssKiB)/1024, s.threads)
}

// sampleProc reads pid's descriptors, resident memory and threads.
func sampleProc(t *testing.T, pid int) procSample {
	t.Helper()
	fds, err := fdLinks(pid)
	if err != nil {
		t.Fatalf("listing the descriptors of hazlua: %v", err)
	}
	s, err := readStatus(pid)
	if err != nil {
		t.Fatalf("reading the status of hazlua: %v", err)
	}
	s.fds = len(fds)
	return s
}

// readStatus reads VmRSS and Threads from /proc/PID/status.
func readStatus(pid int) (procSample, error) {
	var s procSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.rssKiB = n
		case "Threads":
			s.threads = int(n)
		}
	}
	return s, nil
}

// killAboveRSS watches hazlua's resident memory while it runs and
// SIGKILLs it once it is above limitKiB, so that a runaway run fails its
// test without taking the machine's memory. over reports whether it did.
func killAboveRSS(r *hazluaRun, limitKiB int64) (over func() bool) {
	var hit atomic.Bool
	pid := r.cmd.Process.Pid
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-tick.C:
			}
			if s, err := readStatus(pid); err == nil && s.rssKiB > limitKiB {
				hit.Store(true)
				_ = r.cmd.Process.Kill()
				return
			}
		}
	}()
	return hit.Load
}

// openFD is one open file descriptor of a process.
type openFD struct {
	fd   int
	link string      // readlink /proc/PID/fd/N
	mode os.FileMode // of the open file (stat follows the magic link); set by openFiles
}

// fdLinks lists pid's open descriptors and what they point to.
func fdLinks(pid int) ([]openFD, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []openFD
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		link, _ := os.Readlink(filepath.Join(dir, e.Name()))
		out = append(out, openFD{fd: fd, link: link})
	}
	return out, nil
}

// fdTargets lists what pid's descriptors point to, for failure messages.
func fdTargets(pid int) string {
	fds, err := fdLinks(pid)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, fd := range fds {
		fmt.Fprintf(&b, "\n  %d -> %s", fd.fd, fd.link)
	}
	return b.String()
}

// openFiles lists the open file descriptors of pid whose link starts with
// prefix, with the mode of each open file.
func openFiles(t *testing.T, pid int, prefix string) []openFD {
	t.Helper()
	fds, err := fdLinks(pid)
	if err != nil {
		t.Fatal(err)
	}
	var out []openFD
	for _, fd := range fds {
		if !strings.HasPrefix(fd.link, prefix) {
			continue
		}
		fi, err := os.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd.fd))
		if err != nil {
			continue // closed meanwhile
		}
		fd.mode = fi.Mode()
		out = append(out, fd)
	}
	return out
}

// Scripts.

// writeScript writes build.lua (the prelude followed by body) into a new
// temporary directory and returns the directory.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	return writeRawScript(t, []byte(prelude+body))
}

// writeRawScript writes build.lua with exactly content (no prelude) into
// a new temporary directory and returns the directory.
func writeRawScript(t *testing.T, content []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// prelude is prepended to every end-to-end script. It is on one line, so
// that the line numbers of the body are its own plus one.
//
// HOLD is shell code that makes the shell hold the FIFO (fd 9, inherited by
// everything it starts from then on) and register "$0" as a holder.
// start(name, cmd, opts) spawns `sh -c HOLD..cmd name` with stdout piped
// and waits for its first line, which must be "ready".
// TREE is a command for start: two background sleeps in the shell's
// process group, and a grandchild that calls setsid to leave the group
// (registered as "$0.daemon"), which says ready once all three run.
const prelude = `HOLD = 'exec 9>"$HAZ_FIFO"; echo "$0" >&9; ' ` +
	`TREE = [[sleep 1000 & sleep 1000 & setsid sh -c 'echo "$0.daemon" >&9; echo ready; exec sleep 1000' "$0" & wait]] ` +
	`function start(name, cmd, opts) ` +
	`local spec = {"sh", "-c", HOLD .. cmd, name, stdout = "pipe", name = name} ` +
	`for k, v in pairs(opts or {}) do spec[k] = v end ` +
	`local p = haz.spawn(spec) ` +
	`local line = p:lines()() ` +
	`if line ~= "ready" then error(name .. " said " .. tostring(line) .. ", not ready") end ` +
	`return p ` +
	`end` + "\n"

// treeNames lists the holders that start(name, TREE) registers.
func treeNames(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n, n+".daemon")
	}
	return out
}

// luaList renders values as a Lua list of string literals.
func luaList(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = testutil.LuaString(v)
	}
	return "{" + strings.Join(parts, ",\n") + "}"
}

// meetLua defines meet(n, name) for a script: it returns only once n task
// bodies (or branches) have called it, which proves that they ran at the
// same time. The first n-1 callers wait in a process reading a FIFO of
// their own (fifo-NAME in the project root, made by mkfifos); the n-th
// opens each of those FIFOs for writing, which ends the readers. Nothing
// is timed: if the n callers cannot all run at once, the readers time out
// after 20 s (a failure bound) and the run fails instead of hanging.
const meetLua = `
local meet_arrived = {}
function mkfifos(...)
  for _, name in ipairs{...} do haz.run{"mkfifo", "fifo-" .. name} end
end
function meet(n, name)
  table.insert(meet_arrived, name)
  if #meet_arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 20, name = "meet-" .. name}
  else
    for i = 1, n - 1 do
      haz.run{"sh", "-c", ': > "$1"', "sh", "fifo-" .. meet_arrived[i], timeout = 20}
    end
  end
end
`

// checkpointLua defines checkpoint(n) for a script: print "checkpoint n",
// then wait for the test's answer on the FIFO named by HAZ_ANSWER (see
// answerFIFO).
const checkpointLua = `function checkpoint(n) ` +
	`print("checkpoint " .. n) ` +
	`local f = assert(io.open(os.getenv("HAZ_ANSWER"), "r")) ` +
	`local line = f:read("*l") f:close() ` +
	`if line ~= "go" then error("checkpoint " .. n .. ": answer " .. tostring(line)) end ` +
	`end` + "\n"

// FIFOs and files.

// mkfifo makes a FIFO in dir and returns its path.
func mkfifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openFIFOWriter opens a FIFO for writing, which waits for its reader to
// open it. It fails the test after the deadline or, when r is not nil, if
// hazlua exits first. Cleanup closes the file.
func openFIFOWriter(t *testing.T, path string, r *hazluaRun) *os.File {
	t.Helper()
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- opened{f, err}
	}()
	// unblock ends the open in the goroutine (a reader lets it through)
	// and closes what it opened.
	unblock := func() {
		if rf, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
			rf.Close()
		}
	}
	var exited <-chan struct{}
	if r != nil {
		exited = r.done
	}
	select {
	case o := <-ch:
		if o.err != nil {
			t.Fatal(o.err)
		}
		t.Cleanup(func() { o.f.Close() })
		return o.f
	case <-exited:
		unblock()
		t.Fatalf("hazlua exited before it opened %s; stderr:\n%s", path, tail(r.stderr.String(), 40))
	case <-time.After(deadline):
		unblock()
		t.Fatalf("nobody opened %s for reading within %s", path, deadline)
	}
	return nil
}

// answerFIFO is a FIFO through which the test lets a waiting script go on:
// the script, at a checkpoint, prints "checkpoint N" and calls
// checkpointLua's checkpoint(), which opens the FIFO for reading (and so
// blocks until the test opens it for writing) and reads one line. The
// test samples hazlua while the script waits, then calls answer.
type answerFIFO struct{ path string }

func newAnswerFIFO(t *testing.T) *answerFIFO {
	t.Helper()
	return &answerFIFO{path: mkfifo(t, t.TempDir(), "answer.fifo")}
}

// answer lets the script waiting at a checkpoint go on.
func (a *answerFIFO) answer(t *testing.T, r *hazluaRun) {
	t.Helper()
	f := openFIFOWriter(t, a.path, r)
	if _, err := f.WriteString("go\n"); err != nil {
		t.Fatalf("answering the script: %v", err)
	}
	f.Close()
}

// dirWatch reports what happens in one directory (names created or
// renamed into it, files written), from inotify, so a test waits for a
// file without sleeping or polling.
type dirWatch struct {
	dir string
	f   *os.File
	buf []byte
	got []string // names seen, in order
}

// watchDir starts watching dir for new names. Start it before whatever
// creates them.
func watchDir(t *testing.T, dir string) *dirWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		t.Fatalf("inotify watch %s: %v", dir, err)
	}
	// A non-blocking fd goes into Go's poller: reads honour deadlines.
	w := &dirWatch{dir: dir, f: os.NewFile(uintptr(fd), "inotify"), buf: make([]byte, 64<<10)}
	t.Cleanup(func() { w.f.Close() })
	return w
}

// waitName waits until a name for which match is true has been created
// and returns it; it fails the test after the deadline.
func (w *dirWatch) waitName(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	var found string
	w.wait(t, what, func() bool {
		for _, n := range w.got {
			if match(n) {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// wait waits until cond, checked now and after every event in the
// directory, is true; it fails the test after the deadline.
func (w *dirWatch) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	w.f.SetReadDeadline(time.Now().Add(deadline))
	defer w.f.SetReadDeadline(time.Time{})
	for !cond() {
		n, err := w.f.Read(w.buf)
		if err != nil {
			t.Fatalf("waiting for %s in %s: %v (names seen: %q)", what, w.dir, err, w.got)
		}
		for b := w.buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
			mask := binary.NativeEndian.Uint32(b[4:8])
			nameLen := int(binary.NativeEndian.Uint32(b[12:16]))
			name := string(bytes.TrimRight(b[unix.SizeofInotifyEvent:unix.SizeofInotifyEvent+nameLen], "\x00"))
			b = b[unix.SizeofInotifyEvent+nameLen:]
			if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
				w.got = append(w.got, name)
			}
		}
	}
}

// dirNames returns the names in dir (nil if it does not exist).
func dirNames(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return []string{"(" + err.Error() + ")"}
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// fileSHA256 returns the hex SHA-256 of a file and its size.
func fileSHA256(t *testing.T, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// tinyTmpfs mounts a tmpfs of the given size ("1m") on a new directory
// and unmounts it when the test ends. It skips the test, saying why, when
// mounting is not permitted (not root, or in a container without
// CAP_SYS_ADMIN).
func tinyTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=1777"); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("cannot mount a %s tmpfs to fill (needs root with CAP_SYS_ADMIN): %v", size, err)
		}
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// soakSize reads a size setting of the soak tests from the environment:
// name if set (a positive integer), else full when HAZ_SOAK_FULL=1, else
// def (the CI size).
func soakSize(t *testing.T, name string, def, full int) int {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive integer", name, v)
		}
		return n
	}
	if os.Getenv("HAZ_SOAK_FULL") == "1" {
		return full
	}
	return def
}

// Output that tells whose it is (the output tests).

// producer is one writer of a task's output in the output tests: its
// expected lines and the alphabet of their fillers.
type producer struct {
	name     string // header of its lines, e.g. "t3c"
	task     string // the task it writes for, e.g. "t3"
	alphabet string
	lines    []string
}

// producerHeaderRe matches the header of a line that a producer wrote.
var producerHeaderRe = regexp.MustCompile(`^(t[0-9]+[cp]):([0-9]+):`)

// producerLine is line i (0-based) of the producer named prod ("t3c": task
// t3's child), n bytes long without its newline: a header "prod:i:" then a
// filler from the producer's own alphabet, so that any piece of the line
// tells whose it is and no two lines are alike.
func producerLine(prod string, alphabet string, i, n int) string {
	var b strings.Builder
	b.Grow(n)
	fmt.Fprintf(&b, "%s:%d:", prod, i)
	for k := 0; b.Len() < n; k++ {
		b.WriteByte(alphabet[(i+k)%len(alphabet)])
	}
	return b.String()
}

// producerLineLength is the length of line i of a producer: mostly 100 to
// about 2,000 bytes, every 40th line 20,000 to 70,000 bytes (longer than
// the 64 KiB at which prefixed output cuts a line into pieces, for some).
func producerLineLength(seed, i int) int {
	x := uint32(seed*7919 + i*104729 + 12345)
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	if i%40 == 39 {
		return 20000 + int(x%50001)
	}
	return 100 + int(x%1900)
}

// ownerOf returns the producer whose alphabet piece is written in, or nil
// when the piece mixes alphabets or starts with a header.
func ownerOf(prods []*producer, piece string) *producer {
	if piece == "" {
		return nil
	}
	for _, p := range prods {
		if strings.Trim(piece, p.alphabet) == "" {
			return p
		}
	}
	return nil
}

// makeProducers writes the input files of outputScript for tasks t1..tN
// (a child's and a print loop's per task), with lines lines per producer
// of length(producer index, line index) bytes each, and returns the
// producers.
func makeProducers(t *testing.T, dir string, tasks, lines int, length func(seed, i int) int) []*producer {
	t.Helper()
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var prods []*producer
	for k := 1; k <= tasks; k++ {
		for j, kind := range []string{"c", "p"} {
			idx := 2*(k-1) + j
			p := &producer{
				name:     fmt.Sprintf("t%d%s", k, kind),
				task:     fmt.Sprintf("t%d", k),
				alphabet: letters[3*idx : 3*idx+3],
			}
			for i := range lines {
				p.lines = append(p.lines, producerLine(p.name, p.alphabet, i, length(idx, i)))
			}
			name := filepath.Join(dir, p.task+"-"+kind+".txt")
			if err := os.WriteFile(name, []byte(strings.Join(p.lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			prods = append(prods, p)
		}
	}
	return prods
}

// taskNames returns t1..tN.
func taskNames(n int) []string {
	var names []string
	for k := 1; k <= n; k++ {
		names = append(names, fmt.Sprintf("t%d", k))
	}
	return names
}

// writeFile writes data to path, making its directory.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
