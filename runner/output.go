package runner

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/hazlua/hazlua/internal/uptodate"
)

// Mode is how task output reaches hazlua's stdout and stderr (docs/api.md: Output).
// The zero value is Prefixed.
type Mode int

const (
	// Prefixed writes each line whole, as "[task] line", under one lock.
	Prefixed Mode = iota
	// Grouped holds a task's output and writes it as one block per stream
	// when the task ends.
	Grouped
	// Raw hands out hazlua's own *os.File, so children write to it
	// directly.
	Raw
)

// String returns "prefixed", "grouped" or "raw".
func (m Mode) String() string {
	switch m {
	case Prefixed:
		return "prefixed"
	case Grouped:
		return "grouped"
	case Raw:
		return "raw"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses the value of -o/--output.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "prefixed":
		return Prefixed, nil
	case "grouped":
		return Grouped, nil
	case "raw":
		return Raw, nil
	}
	return 0, fmt.Errorf("unknown output mode %q (want prefixed, grouped or raw)", s)
}

// Stream selects a task's standard output or standard error.
type Stream int

const (
	// Stdout is a task's standard output, written to hazlua's stdout.
	Stdout Stream = iota
	// Stderr is a task's standard error, written to hazlua's stderr.
	Stderr
)

// String returns "stdout" or "stderr".
func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// WriteError is a failed write to hazlua's own stdout or stderr. Err is
// the error from the file (wrapping syscall.EPIPE when the reader went
// away).
type WriteError struct {
	Stream Stream // which of hazlua's streams failed
	Err    error  // the error from the write
}

// Error returns "runner: write STREAM: ERR".
func (e *WriteError) Error() string { return fmt.Sprintf("runner: write %s: %v", e.Stream, e.Err) }

// Unwrap returns Err.
func (e *WriteError) Unwrap() error { return e.Err }

// BrokenPipe reports whether the reader of the stream had gone away
// (EPIPE): the run should stop as if by SIGPIPE (exit 141).
func (e *WriteError) BrokenPipe() bool { return errors.Is(e.Err, syscall.EPIPE) }

// Output writes the output of every task, hazlua's status line and the
// summary to hazlua's stdout and stderr, under one lock. All its methods
// are safe for concurrent use. A nil *Output is valid: its sinks discard.
//
// A write to stdout or stderr that fails is reported once (Err, and the
// handler set with SetErrorHandler); later writes to that stream are
// dropped. Nothing panics.
type Output struct {
	mu     sync.Mutex
	files  [2]*os.File
	mode   Mode
	color  bool
	quiet  bool
	broken [2]bool
	err    error
	onErr  func(error)
	status statusLine
	name   string // starts hazlua's own lines (SetName)
}

// NewOutput returns an Output writing to stdout and stderr (both non-nil)
// in mode. color gives each task prefix a stable ANSI colour; quiet turns
// the summary off; statusLine turns the status line on (the caller
// decides: stderr is a terminal, not -q). Raw mode and quiet never draw a
// status line.
func NewOutput(stdout, stderr *os.File, mode Mode, color, quiet, statusLine bool) *Output {
	o := &Output{files: [2]*os.File{stdout, stderr}, mode: mode, color: color, quiet: quiet}
	o.status.enabled = statusLine && mode != Raw && !quiet
	o.status.width = defaultStatusWidth
	return o
}

// SetName sets the program name that starts each of the Output's own
// lines, the summary's: "hazlua" gives "hazlua: task x failed". Empty (the
// default): the lines have no prefix. Call it before the run.
func (o *Output) SetName(name string) { o.name = name }

// Mode returns the output mode.
func (o *Output) Mode() Mode {
	if o == nil {
		return Prefixed
	}
	return o.mode
}

// SetErrorHandler sets f to be called, once, on its own goroutine, with
// the first failed write (a *WriteError). Use it to stop the run on a
// broken pipe.
func (o *Output) SetErrorHandler(f func(error)) {
	o.mu.Lock()
	o.onErr = f
	err := o.err
	o.mu.Unlock()
	if err != nil && f != nil {
		go f(err)
	}
}

// Err returns the first failed write (a *WriteError), or nil.
func (o *Output) Err() error {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Printf writes one line (a newline is added if missing) to hazlua's
// stderr, clearing and redrawing the status line around it. For hazlua's
// own messages that come while tasks run ("hazlua: received SIGINT,
// stopping ...", the -v spawn echo); it blocks while stderr does.
func (o *Output) Printf(format string, a ...any) {
	if o == nil {
		return
	}
	b := fmt.Appendf(nil, format, a...)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	o.mu.Lock()
	o.emitLocked(Stderr, b)
	o.mu.Unlock()
}

// linePrefix returns "NAME: " for hazlua's own lines, or "".
func (o *Output) linePrefix() string {
	if o.name == "" {
		return ""
	}
	return o.name + ": "
}

// warnf writes "NAME: warning: ..." as Printf does.
func (o *Output) warnf(format string, a ...any) {
	if o == nil {
		return
	}
	o.Printf("%swarning: %s", o.linePrefix(), fmt.Sprintf(format, a...))
}

// Warn writes "NAME: warning: msg" as Printf does: for problems that do
// not stop the run (an unusable cache, a corrupt record).
func (o *Output) Warn(msg string) { o.warnf("%s", msg) }

// explain writes "NAME: explain: TASK: ACTION (REASON)" (--explain).
func (o *Output) explain(task string, a uptodate.Action, reason string) {
	if o == nil {
		return
	}
	if reason != "" {
		reason = " (" + reason + ")"
	}
	o.Printf("%sexplain: %s: %s%s", o.linePrefix(), task, a, reason)
}

// explainCause writes the --explain line of a task that does not run for
// cause: "hazlua: explain: lint: not selected (unchanged since main)".
func (o *Output) explainCause(task, cause string) {
	if o == nil {
		return
	}
	o.Printf("%sexplain: %s: %s", o.linePrefix(), task, cause)
}

// Notice writes line (a newline is added if missing) to hazlua's stderr
// without waiting for the output: for hazlua's own messages that must not
// wait, such as the stopping line a signal brings, which must reach
// stderr even while a task's write to a full stdout holds the output.
// When the output is free, Notice is Printf. Else it writes the line in
// one write, after clearing the terminal line when the status line is on,
// so that the line starts a line of its own whatever the holder is doing
// (each of the output's writes is a whole line or the status line); the
// status line comes back at its next redraw. Notice blocks only while
// stderr does. It returns the error of a write it made without the
// output, which the output does not record; else nil.
func (o *Output) Notice(line string) error {
	if o == nil {
		return nil
	}
	if line == "" || line[len(line)-1] != '\n' {
		line += "\n"
	}
	if o.mu.TryLock() {
		o.emitLocked(Stderr, []byte(line))
		o.mu.Unlock()
		return nil
	}
	if o.status.enabled { // set at NewOutput, never changed
		line = clearLine + line
	}
	_, err := io.WriteString(o.files[Stderr], line)
	return err
}

// emitLocked writes p to stream st around the status line. o.mu is held.
func (o *Output) emitLocked(st Stream, p []byte) {
	if !o.status.on {
		o.writeLocked(st, p)
		return
	}
	o.clearStatusLocked()
	o.writeLocked(st, p)
	o.drawStatusLocked()
}

// writeLocked writes p to stream st and records a failure. o.mu is held.
func (o *Output) writeLocked(st Stream, p []byte) {
	if len(p) == 0 || o.broken[st] {
		return
	}
	if _, err := o.files[st].Write(p); err != nil {
		o.broken[st] = true
		if o.err == nil {
			o.err = &WriteError{Stream: st, Err: err}
			if o.onErr != nil {
				go o.onErr(o.err)
			}
		}
	}
}

// prefix returns "[name] ", coloured if colour is on.
func (o *Output) prefix(name string) []byte {
	if !o.color {
		return []byte("[" + name + "] ")
	}
	return fmt.Appendf(nil, "\x1b[%dm[%s]\x1b[0m ", colorOf(name), name)
}

// palette holds the ANSI foreground colours used for prefixes: no red
// (errors) and no black or white (invisible on some backgrounds).
var palette = [...]int{32, 33, 34, 35, 36, 92, 93, 94, 95, 96}

// colorOf returns the stable colour of a task name.
func colorOf(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return palette[h.Sum32()%uint32(len(palette))]
}
