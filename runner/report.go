package runner

import "time"

// Status is how a task's run ended. The zero value is NotRun.
type Status int

// Task statuses (docs/api.md: Failure policy and outcomes). Outcome.Cause spells out the reason.
const (
	// NotRun: the task did not start (a dependency failed, the run
	// stopped after a failure, or the run was interrupted first).
	NotRun Status = iota
	// Succeeded: the body returned nil, or the aggregate's deps succeeded.
	Succeeded
	// UpToDate: the task's fingerprint and outputs matched its last
	// success, so its body did not run (or the body returned
	// ErrUpToDate). Counts as success.
	UpToDate
	// Cached: the task's outputs and output were restored from the
	// cache instead of running its body. Counts as success.
	Cached
	// Failed: the body returned an error (or panicked).
	Failed
	// TimedOut: the body failed after its Timeout expired.
	TimedOut
	// Interrupted: the body failed after Run's context was cancelled.
	Interrupted
	// Cancelled: the body failed after --fail-fast cancelled it.
	Cancelled
	// NotSelected: the run's Selection left the task out
	// (--changed-since): it did not run, and counts as success.
	NotSelected
)

var statusNames = [...]string{
	NotRun:      "not run",
	Succeeded:   "succeeded",
	UpToDate:    "up to date",
	Cached:      "cached",
	Failed:      "failed",
	TimedOut:    "timed out",
	Interrupted: "interrupted",
	Cancelled:   "cancelled",
	NotSelected: "not selected",
}

// String returns the status as the summary prints it: "succeeded",
// "up to date", "cached", "failed", "timed out", "interrupted", "not run",
// "cancelled", "not selected".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown status"
}

// OK reports whether s counts as success (Succeeded, UpToDate, Cached or
// NotSelected).
func (s Status) OK() bool { return s == Succeeded || s == UpToDate || s == Cached || s == NotSelected }

// Outcome is how one task's part of a run ended.
type Outcome struct {
	// Task is the planned task.
	Task *Task
	// Status is how it ended.
	Status Status
	// Cause is the full reason as shown to users: "succeeded",
	// "up to date", "cached", "failed", "timed out", "interrupted",
	// "not run (dependency X failed)", "not run (stopped after X failed)",
	// "not run (interrupted)", "cancelled (fail-fast after X)",
	// "not selected (unchanged since REV)" (Selection's cause).
	Cause string
	// Root names the failed task behind a NotRun or Cancelled status
	// (X in Cause), or "".
	Root string
	// Err is the error the body returned (nil unless Failed, TimedOut,
	// Interrupted or Cancelled).
	Err error
	// Ran reports whether the body was started.
	Ran bool
	// Start is when the body started; zero if it did not.
	Start time.Time
	// Duration is how long the body ran; zero if it did not.
	Duration time.Duration
	// Reason says why the up-to-date check ran the task or restored it
	// ("input src/a.c changed", "never ran"), or "" (up to date, or no
	// check).
	Reason string
	// Tail holds the last lines of the task's output (both streams, in
	// order of arrival), without newlines; nil in raw mode or without
	// an Output.
	Tail []string
}

// Report is the result of Run.
type Report struct {
	// Outcomes has one entry per planned task, in plan order.
	Outcomes []Outcome
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
	// Interrupted reports whether Run's context was cancelled before
	// every task ended.
	Interrupted bool
	// FirstFailure names the first task (in time) that failed or timed
	// out, or "".
	FirstFailure string
}

// Failed reports whether any task did not end in success (including tasks
// that did not run).
func (r *Report) Failed() bool {
	for i := range r.Outcomes {
		if !r.Outcomes[i].Status.OK() {
			return true
		}
	}
	return false
}

// Count returns how many outcomes have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for i := range r.Outcomes {
		if r.Outcomes[i].Status == s {
			n++
		}
	}
	return n
}

// Ran returns how many task bodies were started.
func (r *Report) Ran() int {
	n := 0
	for i := range r.Outcomes {
		if r.Outcomes[i].Ran {
			n++
		}
	}
	return n
}

// Outcome returns the outcome of the task named name, or nil if it was not
// planned.
func (r *Report) Outcome(name string) *Outcome {
	for i := range r.Outcomes {
		if r.Outcomes[i].Task.Name == name {
			return &r.Outcomes[i]
		}
	}
	return nil
}
