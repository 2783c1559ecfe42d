// Package runner runs a graph of tasks: it resolves the tasks a run needs
// (Graph, Plan), starts them under a task cap, mutexes and tag caps
// (Run), applies the failure policy, and writes their output through
// per-task sinks (Output, Sink) with a status line and a summary.
//
// It is plain Go: task bodies are Go functions. The Lua layer wraps Lua
// functions into them; nothing here knows about Lua or about processes,
// except that cancelling a task's context is the signal to stop its
// processes.
package runner

import (
	"context"
	"errors"
	"io"
	"time"
)

// Task is one node of the graph. The Lua layer fills one in for each
// haz.task call and passes it to Graph.Add; after that the runner only reads
// it, so it must not be changed while a Plan or a Run uses it.
type Task struct {
	// Name is the task's unique, non-empty name.
	Name string
	// Deps names the tasks that must succeed before this one starts, in
	// the order written (that order picks the root cause named by a task
	// that does not run). Duplicates are ignored.
	Deps []string
	// Desc is a one-line description for --list. Empty: none.
	Desc string
	// Pos is where the task was declared, as "build.lua:12". It prefixes
	// errors about the declaration. Empty: unknown.
	Pos string
	// Mutex names a mutex the task holds while it runs. Empty: none.
	// Tasks holding the same mutex exclusively never overlap. A task
	// waiting for its mutex holds no task slot. Aggregate tasks hold no
	// mutex and count against no tag.
	Mutex string
	// Tags name the caps (Graph.Limit) the task counts against while it
	// runs. A tag without a limit caps nothing.
	Tags []string
	// Inputs are glob patterns (relative to the working directory, the
	// project root) of the files the body reads. Non-nil: they are
	// expanded when the task starts (TaskContext.Inputs) and, with a
	// Store (Options.Store), the task is fingerprinted and skipped when
	// it is up to date, or restored from the cache. Nil: the task always
	// runs.
	Inputs []string
	// Outputs are the paths or globs the body produces. After a success
	// each must exist (else the task fails); they are what dependents'
	// fingerprints see of the task, and what the cache stores. Two
	// tasks' outputs must not overlap (Graph.Validate).
	Outputs []string
	// Key, Env, Source and Always are part of the up-to-date check: a
	// string of the script's choosing (tool versions, flags), the names
	// of environment variables whose values count, the body's definition
	// (its source text), and "never up to date".
	Key    string
	Env    []string
	Source string
	Always bool
	// Params are the parameters the task declares, in declaration order,
	// with their values in this run (Graph.SetParam, else the default).
	// Their values are part of the task's fingerprint.
	Params []Param
	// MutexShared makes the hold of Mutex shared: shared holders may
	// overlap with each other but not with an exclusive holder. Ignored
	// without Mutex. (It is next to Always to keep Task in a smaller size
	// class: 240 bytes, not 256.)
	MutexShared bool
	// Service marks a long-running task, such as a dev server (the Lua
	// key service = true). The runner runs it as any other; watch mode
	// (luaapi) starts it, lets its dependents start, and leaves it
	// running across reruns until its inputs change.
	Service bool
	// Timeout limits the body's run time: its context's deadline. On
	// expiry the context is cancelled (cause *TimeoutError) and, if the
	// body then returns an error, the outcome is TimedOut. Zero: no limit.
	Timeout time.Duration
	// Run is the body. It must return once ctx is done (soon, not
	// necessarily at once). ctx is cancelled, with cause ErrTaskEnded,
	// as soon as Run returns. Returning an error fails the task; returning
	// ErrUpToDate (or an error wrapping it) records the task as up to
	// date. Nil: an aggregate task, which only groups its dependencies,
	// takes no task slot and succeeds as soon as they have.
	//
	// Run is called on its own goroutine. A panic is recovered and
	// reported as the task's failure.
	Run func(ctx context.Context, t *TaskContext) error
}

// Param is a parameter of a task (docs/api.md, "Task parameters"): set on
// the command line after the task (`hazlua deploy env=prod`), read by the
// body as t.params.env.
type Param struct {
	Name     string
	Desc     string // one line for --list; "" for none
	Default  string // the value when none is given, unless Required
	Required bool   // no default: a run of the task must give a value
	Value    string // this run's value, once set or defaulted
	set      bool   // Value was given (SetParam)
}

// Given reports whether the run was given the parameter's value, rather
// than taking the default.
func (p *Param) Given() bool { return p.set }

// ErrUpToDate may be returned by a task body to report that the task had
// nothing to do. The outcome is UpToDate, which counts as success.
var ErrUpToDate = errors.New("runner: task is up to date")

// TaskError is an error that knows the script position where it was raised
// ("build.lua:30"). The summary prints that position with the message.
// Errors whose message already starts with the position need not implement
// it.
type TaskError interface {
	error
	Position() string
}

// ErrorPosition returns the position of the first error in err's chain
// that has a Position method, or "" if none does.
func ErrorPosition(err error) string {
	var te interface{ Position() string }
	if errors.As(err, &te) {
		return te.Position()
	}
	return ""
}

// TaskContext is what a running body gets besides its context: its name
// and its output sink. It is created by Run for one run of one task; its
// methods are safe to call from any goroutine.
type TaskContext struct {
	task   *Task
	sink   *Sink
	inputs []string
}

// Inputs returns the task's expanded inputs, sorted: the files its
// Inputs patterns matched when it started. Nil for a task without
// Inputs.
func (t *TaskContext) Inputs() []string { return t.inputs }

// Name returns the task's name.
func (t *TaskContext) Name() string { return t.task.Name }

// Task returns the task being run.
func (t *TaskContext) Task() *Task { return t.task }

// Sink returns the task's output sink. Use Sink.Writer to give each process
// its own line buffer, so that lines of concurrent processes do not mix.
func (t *TaskContext) Sink() *Sink { return t.sink }

// Stdout returns the writer for the task's standard output: lines go to
// hazlua's stdout in the Output's mode. In raw mode it is the *os.File
// itself. Without an Output it discards.
func (t *TaskContext) Stdout() io.Writer { return t.sink.Stdout() }

// Stderr is like Stdout for standard error.
func (t *TaskContext) Stderr() io.Writer { return t.sink.Stderr() }
