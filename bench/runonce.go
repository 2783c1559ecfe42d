package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// runTimeout bounds one measured run, so a hung hazlua cannot hang the bench.
const runTimeout = 10 * time.Minute

// measurement is one run of one variant.
type measurement struct {
	wall   time.Duration
	maxRSS int64 // peak resident set of the process (and its reaped children), bytes
	stdout string
}

// runOnce runs argv in dir with stdin from /dev/null, timing it from start to
// reaped and taking its peak RSS from wait4's rusage. A non-zero exit is an
// error whose text is the first line of stderr.
func runOnce(dir string, argv []string) (measurement, error) {
	return runOnceWithin(dir, argv, runTimeout)
}

// errTimedOut is the error of a run killed at its time limit.
var errTimedOut = errors.New("timed out")

// runOnceWithin is runOnce with a time limit of its own: a run still going
// after timeout is killed and its error wraps errTimedOut.
func runOnceWithin(dir string, argv []string, timeout time.Duration) (measurement, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	stdout := &boundedBuffer{limit: 64 * kib}
	stderr := &boundedBuffer{limit: 64 * kib}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second

	resetPeakRSS()
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)

	m := measurement{wall: wall, stdout: stdout.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.maxRSS = ru.Maxrss * 1024 // Linux reports KiB
		}
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return m, fmt.Errorf("%w after %s", errTimedOut, timeout)
		}
		return m, runError(err, stderr.String(), stdout.String())
	}
	return m, nil
}

// resetPeakRSS returns the harness's memory to the OS and resets its peak
// RSS to its current RSS (clear_refs 5). Go starts children with vfork
// semantics, sharing the harness's memory until exec, and Linux carries that
// memory's high-water mark into the child's ru_maxrss: without the reset
// every child's peak RSS would be at least the harness's own peak.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// runError turns a failed run into one line.
func runError(err error, stderr, stdout string) error {
	if line := firstLine(stderr); line != "" {
		return errors.New(line)
	}
	if line := firstLine(stdout); line != "" {
		return fmt.Errorf("%v: %s", err, line)
	}
	var notFound *exec.Error
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s: %v", notFound.Name, notFound.Err)
	}
	return err
}

// boundedBuffer keeps the first limit bytes written to it and drops the rest.
type boundedBuffer struct {
	limit int
	buf   []byte
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string { return string(b.buf) }

// firstLine returns the first non-blank line of s, trimmed.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// progress prints one line of progress to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
