package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxNotRunListed bounds the "not run" lines of a summary; the rest are
// counted in one line.
const maxNotRunListed = 20

// Summary writes the end-of-run summary to stderr, each line starting
// with the name SetName gave ("hazlua" in this example): one entry per
// task that failed, timed out, was interrupted or cancelled (with the
// position where it failed, its error and the last lines of its output),
// one line per task that did not run (at most 20, then a count), and a
// line of totals with the elapsed time:
//
//	hazlua: task compile failed: build.lua:30: cc exited with code 1
//	  | main.c:3: error: expected ';'
//	hazlua: task link not run (dependency compile failed)
//	hazlua: 3 succeeded, 1 failed, 1 not run in 1.23s
//
// With colour on, an entry's "NAME: task x failed" is red (its
// prefix bold) and the totals line green when every task succeeded, red
// otherwise.
//
// It writes nothing when the Output is quiet or no task was run,
// restored, found up to date or left out by a Selection.
func (o *Output) Summary(r *Report) {
	if o == nil || o.quiet || r == nil || r.Ran()+r.Count(UpToDate)+r.Count(Cached)+r.Count(NotSelected) == 0 {
		return
	}
	st := summaryStyle{prefix: o.linePrefix(), paint: o.color}
	b := appendSummary(nil, r, o.mode != Raw, st)
	o.mu.Lock()
	o.emitLocked(Stderr, b)
	o.mu.Unlock()
}

// ANSI SGR sequences of the summary's colours.
const (
	sgrRed     = "\x1b[31m"
	sgrBoldRed = "\x1b[1;31m"
	sgrGreen   = "\x1b[32m"
	sgrReset   = "\x1b[0m"
)

// summaryStyle is how the summary's lines start, and whether they are
// coloured.
type summaryStyle struct {
	prefix string // "hazlua: "
	paint  bool
}

// problem returns the start of an entry for a task that did not succeed:
// the prefix and "task NAME WHAT", red when painting. The caller writes
// what follows WHAT.
func (st summaryStyle) problem(name, what string) string {
	if !st.paint {
		return st.prefix + "task " + name + " " + what
	}
	return sgrBoldRed + st.prefix + sgrReset + sgrRed + "task " + name + " " + what + sgrReset
}

// appendSummary appends the summary of r, each line starting with
// st.prefix.
func appendSummary(b []byte, r *Report, tails bool, st summaryStyle) []byte {
	prefix := st.prefix
	buf := bytes.NewBuffer(b)
	listed, hidden := 0, 0
	for i := range r.Outcomes {
		oc := &r.Outcomes[i]
		switch oc.Status {
		case Succeeded, UpToDate, Cached, NotSelected:
			continue
		case NotRun:
			if listed == maxNotRunListed {
				hidden++
				continue
			}
			listed++
			fmt.Fprintf(buf, "%s\n", st.problem(oc.Task.Name, oc.Cause))
			continue
		}
		writeProblem(buf, oc, tails, st)
	}
	if hidden > 0 {
		fmt.Fprintf(buf, "%s... and %d more not run\n", prefix, hidden)
	}
	buf.WriteString(prefix)
	if st.paint {
		if !r.Failed() {
			buf.WriteString(sgrGreen)
		} else {
			buf.WriteString(sgrRed)
		}
	}
	fmt.Fprintf(buf, "%d succeeded", r.Count(Succeeded))
	for _, s := range []Status{Cached, UpToDate, NotSelected, Failed, TimedOut, Interrupted, Cancelled, NotRun} {
		if n := r.Count(s); n > 0 {
			fmt.Fprintf(buf, ", %d %s", n, s)
		}
	}
	fmt.Fprintf(buf, " in %s", formatElapsed(r.Elapsed))
	if st.paint {
		buf.WriteString(sgrReset)
	}
	buf.WriteString("\n")
	return buf.Bytes()
}

// writeProblem writes the entry of a task whose body ran and did not
// succeed.
func writeProblem(buf *bytes.Buffer, oc *Outcome, tails bool, st summaryStyle) {
	name := oc.Task.Name
	var detail string
	switch oc.Status {
	case Failed:
		msg := "failed"
		if oc.Err != nil {
			msg += ": " + locate(oc.Err, oc.Task)
		}
		lines := strings.Split(msg, "\n")
		fmt.Fprintf(buf, "%s%s\n", st.problem(name, "failed"), strings.TrimPrefix(lines[0], "failed"))
		for _, l := range lines[1:] {
			fmt.Fprintf(buf, "  %s\n", l)
		}
	case TimedOut:
		fmt.Fprintf(buf, "%s\n", st.problem(name, fmt.Sprintf("timed out after %v", oc.Task.Timeout)))
		detail = errDetail(oc)
	default: // Interrupted, Cancelled
		fmt.Fprintf(buf, "%s\n", st.problem(name, oc.Cause))
		detail = errDetail(oc)
	}
	if detail != "" {
		for _, l := range strings.Split(detail, "\n") {
			fmt.Fprintf(buf, "  %s\n", l)
		}
	}
	if tails {
		for _, l := range oc.Tail {
			fmt.Fprintf(buf, "  | %s\n", strings.TrimSuffix(l, "\r"))
		}
	}
}

// errDetail returns the located error of a timed-out, interrupted or
// cancelled task, or "" when it says nothing beyond the status.
func errDetail(oc *Outcome) string {
	err := oc.Err
	if err == nil || err == context.Canceled || err == context.DeadlineExceeded {
		return ""
	}
	var te *TimeoutError
	var fe *FailFastError
	if errors.As(err, &te) || errors.As(err, &fe) || errors.Is(err, ErrTaskEnded) {
		if ErrorPosition(err) == "" && !hasPosition(err.Error()) {
			return "" // it only repeats the status
		}
	}
	return locate(err, oc.Task)
}

// locate returns err's message with the position where it was raised in
// front, or with the task's declaration position after it when the error
// carries none.
func locate(err error, t *Task) string {
	msg := err.Error()
	if pos := ErrorPosition(err); pos != "" {
		if !strings.HasPrefix(msg, pos) {
			msg = pos + ": " + msg
		}
		return msg
	}
	if hasPosition(msg) || t.Pos == "" {
		return msg
	}
	first, rest, multi := strings.Cut(msg, "\n")
	msg = first + " (task at " + t.Pos + ")"
	if multi {
		msg += "\n" + rest
	}
	return msg
}

// hasPosition reports whether msg starts with "file:line:".
func hasPosition(msg string) bool {
	file, rest, ok := strings.Cut(msg, ":")
	if !ok || file == "" || strings.ContainsAny(file, " \t\n") {
		return false
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	return digits > 0 && digits < len(rest) && rest[digits] == ':'
}

// formatElapsed prints "1.23s" under a minute, "2m5s" above.
func formatElapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
