package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// posErr is a TaskError, as the Lua layer's errors are.
type posErr struct{ pos, msg string }

func (e *posErr) Error() string    { return e.msg }
func (e *posErr) Position() string { return e.pos }

func sampleReport() *Report {
	tk := func(name, pos string, timeout time.Duration) *Task {
		return &Task{Name: name, Pos: pos, Timeout: timeout}
	}
	return &Report{
		Elapsed: 1234 * time.Millisecond,
		Outcomes: []Outcome{
			{Task: tk("fine", "", 0), Status: Succeeded, Cause: "succeeded", Ran: true},
			{Task: tk("cached", "", 0), Status: UpToDate, Cause: "up to date", Ran: true},
			{Task: tk("compile", "build.lua:12", 0), Status: Failed, Cause: "failed", Ran: true,
				Err:  &posErr{"build.lua:30", "cc exited with code 1"},
				Tail: []string{"main.c:3: error: expected ';'", "1 error generated.\r"}},
			{Task: tk("gen", "build.lua:5", 0), Status: Failed, Cause: "failed", Ran: true,
				Err: errors.New("boom\nsecond line")},
			{Task: tk("test", "build.lua:40", 5*time.Second), Status: TimedOut, Cause: "timed out", Ran: true,
				Err: fmt.Errorf("build.lua:41: haz.run: sleep: %w", &TimeoutError{"test", 5 * time.Second})},
			{Task: tk("link", "", 0), Status: NotRun, Cause: "not run (dependency compile failed)", Root: "compile"},
			{Task: tk("lint", "", 0), Status: Cancelled, Cause: "cancelled (fail-fast after compile)", Root: "compile", Ran: true,
				Err: context.Canceled, Tail: []string{"checking"}},
		},
	}
}

func TestSummary(t *testing.T) {
	full := `hazlua: task compile failed: build.lua:30: cc exited with code 1
  | main.c:3: error: expected ';'
  | 1 error generated.
hazlua: task gen failed: boom (task at build.lua:5)
  second line
hazlua: task test timed out after 5s
  build.lua:41: haz.run: sleep: task test timed out after 5s
hazlua: task link not run (dependency compile failed)
hazlua: task lint cancelled (fail-fast after compile)
  | checking
hazlua: 1 succeeded, 1 up to date, 2 failed, 1 timed out, 1 cancelled, 1 not run in 1.23s
`
	noTails := `hazlua: task compile failed: build.lua:30: cc exited with code 1
hazlua: task gen failed: boom (task at build.lua:5)
  second line
hazlua: task test timed out after 5s
  build.lua:41: haz.run: sleep: task test timed out after 5s
hazlua: task link not run (dependency compile failed)
hazlua: task lint cancelled (fail-fast after compile)
hazlua: 1 succeeded, 1 up to date, 2 failed, 1 timed out, 1 cancelled, 1 not run in 1.23s
`
	nothingRan := &Report{Outcomes: []Outcome{{Task: &Task{Name: "a"}, Status: NotRun, Cause: "not run (interrupted)"}}}
	tests := []struct {
		name   string
		mode   Mode
		quiet  bool
		report *Report
		want   string
	}{
		{"prefixed", Prefixed, false, sampleReport(), full},
		{"grouped", Grouped, false, sampleReport(), full},
		{"raw has no tails", Raw, false, sampleReport(), noTails},
		{"quiet", Prefixed, true, sampleReport(), ""},
		{"nothing ran", Prefixed, false, nothingRan, ""},
		{"nil report", Prefixed, false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, stdout, stderr := newTestOutput(t, tt.mode, false, tt.quiet, false)
			o.Summary(tt.report)
			if got := contents(t, stderr); got != tt.want {
				t.Errorf("summary:\n%s\nwant:\n%s", got, tt.want)
			}
			if got := contents(t, stdout); got != "" {
				t.Errorf("stdout %q", got)
			}
		})
	}
}

func TestSummaryCapsNotRun(t *testing.T) {
	r := &Report{Elapsed: 90 * time.Second}
	r.Outcomes = append(r.Outcomes, Outcome{Task: &Task{Name: "root"}, Status: Failed, Cause: "failed", Ran: true})
	for i := range 25 {
		r.Outcomes = append(r.Outcomes, Outcome{Task: &Task{Name: fmt.Sprintf("d%d", i)}, Status: NotRun,
			Cause: "not run (dependency root failed)"})
	}
	got := string(appendSummary(nil, r, true, summaryStyle{prefix: "hazlua: "}))
	if n := strings.Count(got, "not run (dependency root failed)"); n != maxNotRunListed {
		t.Errorf("%d not-run lines, want %d", n, maxNotRunListed)
	}
	for _, want := range []string{"hazlua: ... and 5 more not run\n", "hazlua: 0 succeeded, 1 failed, 25 not run in 1m30s\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

// TestSummaryAfterRun goes end to end: a failing task's output tail and
// error position reach the summary.
func TestSummaryAfterRun(t *testing.T) {
	o, stdout, stderr := newTestOutput(t, Prefixed, false, false, false)
	g := newGraph(t,
		&Task{Name: "compile", Pos: "build.lua:3", Run: func(ctx context.Context, tc *TaskContext) error {
			io.WriteString(tc.Stdout(), "compiling a.c\n")
			io.WriteString(tc.Stderr(), "a.c:1: oops")
			return &posErr{"build.lua:4", "haz.run: cc exited with code 1"}
		}},
		ok("link", "compile"),
	)
	r := Run(context.Background(), mustPlan(t, g, "link"), Options{Output: o})
	o.Summary(r)
	if got, want := contents(t, stdout), "[compile] compiling a.c\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	got := contents(t, stderr)
	wantPrefix := `[compile] a.c:1: oops
hazlua: task compile failed: build.lua:4: haz.run: cc exited with code 1
  | compiling a.c
  | a.c:1: oops
hazlua: task link not run (dependency compile failed)
hazlua: 0 succeeded, 1 failed, 1 not run in `
	if !strings.HasPrefix(got, wantPrefix) || !strings.HasSuffix(got, "s\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s...", got, wantPrefix)
	}
}

func TestHasPosition(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{"build.lua:12: x", true},
		{"lib/a.lua:1:", true},
		{"build.lua: x", false},
		{"error: 12: x", false},
		{"some error", false},
		{"a b:12: x", false},
	} {
		if got := hasPosition(tt.msg); got != tt.want {
			t.Errorf("hasPosition(%q) = %v", tt.msg, got)
		}
	}
}

// TestSummaryColour: with colour on, problem entries are red with a bold
// prefix, the totals line green or red; off, no escape at all.
func TestSummaryColour(t *testing.T) {
	failed := &Report{Elapsed: time.Second, Outcomes: []Outcome{
		{Task: &Task{Name: "ok"}, Status: Succeeded, Ran: true},
		{Task: &Task{Name: "cc"}, Status: Failed, Cause: "failed", Ran: true, Err: &posErr{"build.lua:4", "boom"}},
		{Task: &Task{Name: "link"}, Status: NotRun, Cause: "not run (dependency cc failed)"},
	}}
	got := string(appendSummary(nil, failed, true, summaryStyle{prefix: "hazlua: ", paint: true}))
	want := "\x1b[1;31mhazlua: \x1b[0m\x1b[31mtask cc failed\x1b[0m: build.lua:4: boom\n" +
		"\x1b[1;31mhazlua: \x1b[0m\x1b[31mtask link not run (dependency cc failed)\x1b[0m\n" +
		"hazlua: \x1b[31m1 succeeded, 1 failed, 1 not run in 1.00s\x1b[0m\n"
	if got != want {
		t.Errorf("failed run:\n%q\nwant\n%q", got, want)
	}
	if plain := string(appendSummary(nil, failed, true, summaryStyle{prefix: "hazlua: "})); strings.Contains(plain, "\x1b") {
		t.Errorf("colour off, yet escapes: %q", plain)
	}
	ok := &Report{Elapsed: time.Second, Outcomes: []Outcome{{Task: &Task{Name: "ok"}, Status: Succeeded, Ran: true}}}
	if got, want := string(appendSummary(nil, ok, true, summaryStyle{prefix: "hazlua: ", paint: true})),
		"hazlua: \x1b[32m1 succeeded in 1.00s\x1b[0m\n"; got != want {
		t.Errorf("successful run: %q, want %q", got, want)
	}
}
