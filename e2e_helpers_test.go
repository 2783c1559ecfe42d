package main

import (
	"bufio"
	"bytes"
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
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for the end-to-end tests in e2e_test.go: they run the real
// hazlua command (the copy of the test binary that testscript.Main puts in
// PATH, see TestMain) on a script, with real signals, and prove that no
// process it started survives it.
//
// # Proving that nothing survives
//
// hazlua gives its children only fds 0, 1 and 2, and what those are
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
// As a second, diagnostic line of defence, every process started by a test
// carries HAZ_E2E_TOKEN=<unique> in its environment: survivors lists the
// live ones (for failure messages) and the test's cleanup SIGKILLs them, so
// a failing test leaks nothing either.

// deadline bounds every wait of the end-to-end tests. It is a failure
// bound, never a way to let something happen: normal runs take well under
// a second per wait.
const deadline = 20 * time.Second

// hazluaPath returns the hazlua command installed by testscript.Main.
func hazluaPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("hazlua")
	if err != nil {
		t.Fatalf("hazlua is not in PATH (TestMain should have put it there): %v", err)
	}
	return p
}

// holders is the read end of a FIFO that the processes under test hold
// open for writing (see the comment at the top of this file).
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
	path := filepath.Join(t.TempDir(), "holders.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
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
			t.Fatalf("holders %v never opened the FIFO (read: %v; seen: %v; processes: %s)", missing, err, keys(h.seen), survivorList(token))
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

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

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
	timeout := time.After(deadline)
	for i := 0; ; {
		l.mu.Lock()
		for ; i < len(l.lines); i++ {
			if re.MatchString(l.lines[i]) {
				s := l.lines[i]
				l.mu.Unlock()
				return s
			}
		}
		eof, grew, lines := l.eof, l.grew, append([]string(nil), l.lines...)
		l.mu.Unlock()
		if eof {
			t.Fatalf("%s ended without a line matching %q; it had:\n%s", what, re, strings.Join(lines, "\n"))
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("no line matching %q on %s after %s; it had:\n%s", re, what, deadline, strings.Join(lines, "\n"))
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

// hazluaRun is one hazlua process under test.
type hazluaRun struct {
	cmd    *exec.Cmd
	token  string
	stdout *lineLog // nil when the test passed its own stdout
	stderr *lineLog
	done   chan struct{} // closed when cmd.Wait returned
	err    error         // cmd.Wait's result, once done is closed
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
	// what hazlua inherits (ignored signals).
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
	argv := append([]string{hazluaPath(t)}, args...)
	if opt.wrap != nil {
		argv = append(append([]string(nil), opt.wrap...), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HAZ_E2E_TOKEN="+r.token, "NO_COLOR=1", "GORACE="+goraceEnv())
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
	select {
	case <-r.done:
	case <-time.After(deadline):
		t.Fatalf("hazlua did not exit within %s; stderr so far:\n%s\nprocesses: %s", deadline, r.stderr, survivorList(r.token))
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
	ws := r.wait(t)
	if ws.Signaled() {
		t.Fatalf("hazlua was killed by signal %v (a Go runtime crash, or a signal it should have caught); stderr:\n%s", ws.Signal(), r.stderr)
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
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// pid (comm) state ppid pgrp session ...
		fields := ""
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
			if f := strings.Fields(string(stat[i+2:])); len(f) >= 4 {
				fields = fmt.Sprintf(" state=%s ppid=%s pgrp=%s sid=%s", f[0], f[1], f[2], f[3])
			}
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

// writeScript writes build.lua (the prelude followed by body) into a new
// temporary directory and returns the directory.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(prelude+body), 0o644); err != nil {
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

// killWithSecondSignal sends SIGINT, checks that hazlua announces the stop
// but keeps waiting (its children ignore SIGTERM and the grace is long),
// then sends second and checks that everything dies at once, with exit 130
// and no Go trace. It returns hazlua's stderr lines.
func killWithSecondSignal(t *testing.T, r *hazluaRun, h *holders, second syscall.Signal) []string {
	t.Helper()
	r.signal(t, syscall.SIGINT)
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`stopping`))
	select {
	case <-r.done:
		t.Fatalf("hazlua exited after the first SIGINT although its children ignore SIGTERM and the grace is long; stderr:\n%s", r.stderr)
	default:
	}
	start := time.Now()
	r.signal(t, second)
	code := r.exitCode(t)
	// Not a timing assertion: a long grace against a bound far below
	// it, to tell "killed at once" from "waited the grace".
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("hazlua took %s to exit after the second signal; it should kill everything at once", took.Round(time.Millisecond))
	}
	h.waitGone(t, r.token)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 130 {
		t.Errorf("exit status %d, want 130 (the first signal, SIGINT, decides); stderr:\n%s", code, strings.Join(lines, "\n"))
	}
	return lines
}
