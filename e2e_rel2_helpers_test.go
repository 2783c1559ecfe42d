package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Helpers for the reliability tests of e2e_hostile_test.go,
// e2e_faults_test.go and e2e_soak_test.go. They build on the end-to-end
// helpers of e2e_helpers_test.go (startHazlua, holders, lineLog) and add
// what those do not have: waits longer than deadline for runs that are
// slow by design, a check that no process of a run is left, samples of
// hazlua's descriptors and memory taken from outside (/proc), an answer
// FIFO through which a script waits for the test, and a scratch tmpfs.

// rel2ExitWithin waits up to d for hazlua to exit and returns its exit status
// (r.exitCode). After d it fails the test; the cleanup of startHazlua
// then kills hazlua.
func rel2ExitWithin(t *testing.T, r *hazluaRun, d time.Duration) int {
	t.Helper()
	rel2WaitWithin(t, r, d)
	return r.exitCode(t)
}

// rel2WaitWithin waits up to d for hazlua to exit and returns its wait status.
func rel2WaitWithin(t *testing.T, r *hazluaRun, d time.Duration) syscall.WaitStatus {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		t.Fatalf("hazlua did not exit within %s; stderr so far:\n%s\nprocesses: %s", d, rel2Tail(r.stderr.String(), 40), survivorList(r.token))
	}
	return r.wait(t)
}

// rel2KillAboveRSS watches hazlua's resident memory while it runs and
// SIGKILLs it once it is above limitKiB, so that a runaway run fails its
// test without taking the machine's memory (24 GiB shared by everyone).
// over reports whether it did.
func rel2KillAboveRSS(r *hazluaRun, limitKiB int64) (over func() bool) {
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
			if rss, ok := rel2VmRSS(pid); ok && rss > limitKiB {
				hit.Store(true)
				_ = r.cmd.Process.Kill()
				return
			}
		}
	}()
	return hit.Load
}

// rel2VmRSS returns pid's resident memory in KiB.
func rel2VmRSS(pid int) (int64, bool) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}

// rel2WaitLine waits up to d for a line of l matching re and returns it.
func rel2WaitLine(t *testing.T, l *lineLog, what string, re *regexp.Regexp, d time.Duration) string {
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
			t.Fatalf("%s ended without a line matching %q; it had:\n%s", what, re, rel2Tail(l.String(), 40))
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("no line matching %q on %s after %s; it had:\n%s", re, what, d, rel2Tail(l.String(), 40))
		}
	}
}

// rel2Tail returns the last n lines of s.
func rel2Tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// rel2CheckNoneLeft fails if a process of the run (one with its
// HAZ_E2E_TOKEN) is alive. Call it once hazlua has exited: from then on
// nothing it started may run (SPEC S6). It is the check for runs whose
// children are too many, or too short-lived, to hold the FIFO.
func rel2CheckNoneLeft(t *testing.T, r *hazluaRun) {
	t.Helper()
	if pids := survivors(r.token); len(pids) > 0 {
		t.Errorf("%d processes started by the run are alive after hazlua exited: %s", len(pids), survivorList(r.token))
	}
}

// rel2Finish waits (up to d) for a run to end and checks what every scenario
// must hold: exit status want, no Go trace on stderr, and no process of
// the run left (the FIFO, when h is not nil and holders registered, and
// the environment token in every case). It returns stderr's lines.
func rel2Finish(t *testing.T, r *hazluaRun, h *holders, want int, d time.Duration) []string {
	t.Helper()
	code := rel2ExitWithin(t, r, d)
	if h != nil {
		h.waitGone(t, r.token)
	}
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	rel2CheckNoneLeft(t, r)
	if code != want {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, want, rel2Tail(strings.Join(lines, "\n"), 40))
	}
	return lines
}

// rel2CheckErrorLine fails unless stderr has a line "hazlua: <re>" (re is
// matched against the rest of the line): the clear, one-line error SPEC
// S2 asks for.
func rel2CheckErrorLine(t *testing.T, lines []string, re string) {
	t.Helper()
	rx := regexp.MustCompile(`^hazlua: ` + re)
	for _, l := range lines {
		if rx.MatchString(l) {
			return
		}
	}
	t.Errorf("stderr has no line matching %q:\n%s", rx, rel2Tail(strings.Join(lines, "\n"), 40))
}

// rel2WriteRaw writes build.lua with exactly content (no prelude) into a new
// temporary directory and returns the directory.
func rel2WriteRaw(t *testing.T, content []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rel2ProcSample is what /proc says about a process at one moment.
type rel2ProcSample struct {
	fds     int   // open descriptors (/proc/PID/fd)
	rssKiB  int64 // VmRSS
	threads int   // Threads
}

func (s rel2ProcSample) String() string {
	return fmt.Sprintf("%d fds, RSS %.1f MiB, %d threads", s.fds, float64(s.rssKiB)/1024, s.threads)
}

// rel2SampleProc reads pid's descriptors, resident memory and threads.
func rel2SampleProc(t *testing.T, pid int) rel2ProcSample {
	t.Helper()
	var s rel2ProcSample
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("counting the descriptors of hazlua: %v", err)
	}
	s.fds = len(ents)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the status of hazlua: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
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
	return s
}

// rel2FDTargets lists what pid's descriptors point to, for failure messages.
func rel2FDTargets(pid int) string {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range ents {
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		fmt.Fprintf(&b, "\n  %s -> %s", e.Name(), target)
	}
	return b.String()
}

// rel2HasOpen reports whether pid has a descriptor open on path.
func rel2HasOpen(pid int, path string) bool {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, e := range ents {
		if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); target == path {
			return true
		}
	}
	return false
}

// rel2AnswerFIFO is a FIFO through which the test lets a waiting script go on:
// the script, at a checkpoint, prints "checkpoint N" and calls
// rel2CheckpointLua's checkpoint(), which opens the FIFO for reading (and so
// blocks until the test opens it for writing) and reads one line. The
// test samples hazlua while the script waits, then calls answer.
type rel2AnswerFIFO struct{ path string }

// rel2CheckpointLua defines checkpoint(n) for a script: print "checkpoint n",
// then wait for the test's answer on the FIFO named by HAZ_ANSWER.
const rel2CheckpointLua = `function checkpoint(n) ` +
	`print("checkpoint " .. n) ` +
	`local f = assert(io.open(os.getenv("HAZ_ANSWER"), "r")) ` +
	`local line = f:read("*l") f:close() ` +
	`if line ~= "go" then error("checkpoint " .. n .. ": answer " .. tostring(line)) end ` +
	`end` + "\n"

func rel2NewAnswerFIFO(t *testing.T) *rel2AnswerFIFO {
	t.Helper()
	path := filepath.Join(t.TempDir(), "answer.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return &rel2AnswerFIFO{path: path}
}

// answer lets the script waiting at a checkpoint go on. Opening the FIFO
// for writing waits for the script to open it for reading.
func (a *rel2AnswerFIFO) answer(t *testing.T, r *hazluaRun) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(a.path, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("go\n")
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("answering the script: %v", err)
		}
	case <-r.done:
		t.Fatalf("hazlua exited at a checkpoint; stderr:\n%s", r.stderr)
	case <-time.After(deadline):
		// Unblock the opener, then fail.
		if f, err := os.OpenFile(a.path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("the script did not open the answer FIFO within %s", deadline)
	}
}

// rel2TinyTmpfs mounts a tmpfs of the given size ("1m") on a new directory
// and unmounts it when the test ends. It skips the test, saying why, when
// mounting is not permitted (not root, or in a container without
// CAP_SYS_ADMIN).
func rel2TinyTmpfs(t *testing.T, size string) string {
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

// rel2SoakSize reads a size setting of the soak tests from the environment:
// name if set (a positive integer), else full when HAZ_SOAK_FULL=1, else
// def (the CI size).
func rel2SoakSize(t *testing.T, name string, def, full int) int {
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
