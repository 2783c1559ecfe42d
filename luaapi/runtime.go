// Package luaapi is hazlua's Lua side: the `haz` module, the threading
// model that lets many Lua threads wait on processes at once, and the run
// of a script. It is the only package that imports gopher-lua.
package luaapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/hazlua/hazlua/internal/gitchanges"
	"github.com/hazlua/hazlua/internal/remotecache"
	"github.com/hazlua/hazlua/internal/trace"
	"github.com/hazlua/hazlua/proc"
	"github.com/hazlua/hazlua/runner"
)

// ErrorKind is what ended a run with an *Error. The command maps each
// kind to an exit status (docs/design.md, "The command and its errors");
// luaapi itself knows no exit statuses.
type ErrorKind int

const (
	// KindRuntime: a task or the script failed at run time (a Lua error,
	// a timeout, a bug of hazlua's). It is the zero value.
	KindRuntime ErrorKind = iota
	// KindUsage: the run cannot start as configured: the script is
	// missing or a directory, the working directory or the project root
	// is unusable, the output mode is unknown.
	KindUsage
	// KindLoad: the script cannot be read or does not compile.
	KindLoad
	// KindDefinition: haz.task or haz.limit was misused, a task named on
	// the command line does not exist, or the graph is invalid (an
	// unknown dependency, a cycle).
	KindDefinition
	// KindStopped: a signal (Runtime.Stop), os.exit or a write to a
	// closed stdout or stderr stopped the run; Error.Signal and
	// Error.Status say which.
	KindStopped
)

// String returns the kind's name: "runtime", "usage", "load",
// "definition" or "stopped".
func (k ErrorKind) String() string {
	switch k {
	case KindRuntime:
		return "runtime"
	case KindUsage:
		return "usage"
	case KindLoad:
		return "load"
	case KindDefinition:
		return "definition"
	case KindStopped:
		return "stopped"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is a failure that ends a run. The zero value is a run-time
// failure with nothing to say.
type Error struct {
	Kind ErrorKind
	// Msg is the first line and details ("build.lua:12: ..."); it is
	// empty when there is nothing left to say (os.exit, a signal already
	// reported, a summary that said it all).
	Msg string
	// Signal is, for KindStopped, the signal that stopped the run
	// (syscall.SIGPIPE for a closed stdout or stderr), or 0 when the
	// script called os.exit.
	Signal syscall.Signal
	// Status is, for KindStopped by os.exit, the status the script asked
	// for (0 to 255).
	Status int
	// Err is the error behind this one, if any (a *runner.GraphError).
	Err error
}

// Error returns Msg.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// The statuses os.exit(true) and os.exit(false) ask for, as C's
// EXIT_SUCCESS and EXIT_FAILURE.
const (
	exitSuccess = 0
	exitFailure = 1
)

// Config is one run of a script. The zero value is not usable: Script is
// required.
type Config struct {
	// Script is the path of the script to run; its directory becomes the
	// project root, and New changes the working directory there.
	Script string
	// Name is the program's name, which starts each of the run's own
	// lines: the -v echo, the summary, the -l and -n notes ("hazlua:
	// spawn: ..."). Empty: those lines have no prefix.
	Name string
	// InvocationDir is where hazlua started (after -C); "" means the
	// working directory when New is called.
	InvocationDir string
	Args          []string // after "--": haz.args and arg
	Tasks         []string // tasks to run, in order

	Jobs int // job and task cap; 0 means no cap
	// KeepGoing (-k) and FailFast (--fail-fast) choose the failure
	// policy; both false: the default (start nothing new, let running
	// tasks finish).
	KeepGoing, FailFast bool
	List                bool // -l: list the tasks instead of running them
	// ListFormat is how -l lists: "" (text), ListJSON (--json) or
	// ListNames (NAME<tab>DESCRIPTION lines, for completion scripts).
	ListFormat string
	// Graph (--graph) prints the tasks a run would start as Graphviz DOT
	// instead of running them.
	Graph   bool
	DryRun  bool          // -n: print the plan instead of running it
	Output  string        // -o: "prefixed" (""), "grouped" or "raw"
	Grace   time.Duration // SIGTERM → SIGKILL; 0 means proc.DefaultGrace
	Verbose bool          // echo every spawn on stderr, and say why each task runs (as Explain)
	// Explain (--explain) says, for each task, why it runs, is up to
	// date or is restored from the cache.
	Explain bool
	// NoCache (--no-cache) runs every task: none is up to date or
	// restored; successes are still recorded and stored.
	NoCache bool
	// CacheDir is the cache's directory (--cache-dir,
	// HAZLUA_CACHE_DIR); "" means .haz/cache under the project root.
	CacheDir string
	// Remote, if set, is the remote cache (--remote-cache); a dry run
	// does not use it.
	Remote *remotecache.Client
	Quiet  bool
	Color  bool
	// Trace, if set, records the run's tasks and processes (--trace).
	Trace *trace.Recorder

	Stdin          *os.File // nil means os.Stdin
	Stdout, Stderr *os.File // nil means os.Stdout, os.Stderr

	// ChangedSince (--changed-since REV), if set, runs only the tasks
	// whose inputs match a file changed since the git revision REV, and
	// their dependents (docs/api.md, "Changed since a git revision"). New
	// asks git; outside a work tree or with an unknown REV it fails with
	// KindUsage.
	ChangedSince string
}

// The formats of Config.ListFormat.
const (
	ListJSON  = "json"
	ListNames = "names"
)

// Runtime is one run of a script: the Lua state, the process manager and
// the run's cancellation. Stop, Kill, Loading, Grace, Shutdown and Notify
// may be called from any goroutine; Run once.
type Runtime struct {
	cfg        Config
	root       string // project root, absolute, symlinks resolved
	scriptName string // the script's path relative to root, as Lua names it

	L   *lua.LState
	lua sync.Mutex // the Lua lock: held by whoever runs Lua code

	m      *proc.Manager
	ctx    context.Context // the run: cancelled by Stop, os.exit, the end
	cancel context.CancelCauseFunc

	top     *thread
	started time.Time
	idle    []*lua.LState // finished Lua threads, for reuse (under the Lua lock)
	logFn   *lua.LFunction

	graph     *runner.Graph
	sources   map[string][]string           // the lines of loaded files, for task definitions (definition.go)
	prefetch  chan prefetched               // the up-to-date state, loading while the script runs (taskrun.go)
	targets   []string                      // the tasks the run was asked for (or "default")
	report    atomic.Pointer[runner.Report] // the tasks' outcomes, once they ran
	traced    sync.WaitGroup                // groups whose processes are yet to be traced (Config.Trace)
	defErrors map[string]bool               // messages of definition errors (KindDefinition)
	stopped   atomic.Pointer[stopError]     // the first Stop or os.exit
	loading   atomic.Bool                   // the script is being parsed: no Lua runs, no process exists

	changes       *gitchanges.Changes // Config.ChangedSince's files, or nil
	jobserverWarn sync.Once           // the jobserver could not be made: said once

	watch      *watchState // watch mode (Watch); nil otherwise
	requiredMu sync.Mutex
	required   []string // files require() loaded, relative to root (in watch mode)

	outMu sync.Mutex     // guards out, and Notify's writes to stderr before it is set
	out   *runner.Output // the task run's output, once the tasks start
}

// stopError is the cause of a run's cancellation that decides how it
// ends: a signal, os.exit, or a closed output.
type stopError struct {
	sig    syscall.Signal // 0: os.exit
	status int            // os.exit's status
}

// New prepares a run: it finds the project root, changes the working
// directory to it, and builds the Lua state with the haz module.
func New(cfg Config) (*Runtime, error) {
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.InvocationDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, &Error{Kind: KindUsage, Msg: fmt.Sprintf("cannot find the working directory: %v", err)}
		}
		cfg.InvocationDir = wd
	}
	abs, err := filepath.Abs(cfg.Script)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(abs); err == nil && st.IsDir() {
			err = errors.New("is a directory")
		}
	}
	if err != nil {
		return nil, &Error{Kind: KindUsage, Msg: fmt.Sprintf("script %s: %v", cfg.Script, unwrapPathError(err))}
	}
	rt := &Runtime{cfg: cfg, root: filepath.Dir(abs), scriptName: filepath.Base(abs),
		graph: runner.NewGraph(), defErrors: map[string]bool{}}
	if err := os.Chdir(rt.root); err != nil {
		return nil, &Error{Kind: KindUsage, Msg: fmt.Sprintf("cannot change to the project root: %v", err)}
	}
	rt.m = proc.NewManager(proc.Config{Grace: cfg.Grace, Jobs: cfg.Jobs, Stdin: cfg.Stdin})
	if cfg.ChangedSince != "" {
		// Before the script, so a bad REV stops nothing half done.
		c, err := gitchanges.Since(rt.root, cfg.ChangedSince, rt.runGit)
		if err != nil {
			rt.m.Shutdown()
			return nil, &Error{Kind: KindUsage, Msg: "--changed-since: " + err.Error(), Err: err}
		}
		rt.changes = c
	}
	rt.ctx, rt.cancel = context.WithCancelCause(context.Background())
	rt.top = &thread{stdout: cfg.Stdout, stderr: cfg.Stderr, outMu: new(sync.Mutex)}
	rt.L = lua.NewState(lua.Options{
		// Small: every task and branch thread gets these options (threads
		// are pooled). The registry grows in big steps, as growing copies
		// it whole. The call stack grows 8 frames at a time up to 200,000
		// frames (docs/api.md, Limits).
		RegistrySize:        1024,
		RegistryMaxSize:     1 << 22,
		RegistryGrowStep:    1 << 14,
		CallStackSize:       200000,
		MinimizeStackMemory: true,
	})
	rt.L.SetContext(withThread(rt.ctx, rt.top))
	rt.openLibs()
	return rt, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// prefix is what starts each of the run's own lines: "hazlua: ".
func (rt *Runtime) prefix() string {
	if rt.cfg.Name == "" {
		return ""
	}
	return rt.cfg.Name + ": "
}

// Report returns how the run's tasks ended and the tasks it was asked
// for: nil when no task ran (the script failed or was stopped first, or
// only the top level ran). Call it after Run.
func (rt *Runtime) Report() (*runner.Report, []string) { return rt.report.Load(), rt.targets }

// WaitTrace waits, at most d, until every process group started so far
// has ended and its processes are in Config.Trace, and reports whether
// they all are. Once Run has returned every group has ended, so this is
// quick.
func (rt *Runtime) WaitTrace(d time.Duration) bool {
	done := make(chan struct{})
	go func() { rt.traced.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// ScriptName returns the script's path relative to the project root.
func (rt *Runtime) ScriptName() string { return rt.scriptName }

// Root returns the project root.
func (rt *Runtime) Root() string { return rt.root }

// Grace returns the grace period between SIGTERM and SIGKILL.
func (rt *Runtime) Grace() time.Duration { return rt.m.Grace() }

// Stop stops the run because hazlua received sig (docs/design.md,
// "Stopping"): every thread is cancelled, every process group terminated,
// and Run returns an *Error of KindStopped with that Signal. The first
// stop (Stop, os.exit or a closed output) wins; Stop does not wait. It is
// safe to call from any goroutine, at any time after New.
func (rt *Runtime) Stop(sig syscall.Signal) { rt.stop(&stopError{sig: sig}) }

func (rt *Runtime) stop(cause *stopError) {
	rt.stopped.CompareAndSwap(nil, cause)
	rt.cancel(errStopped)
	rt.m.TerminateAll()
}

var errStopped = errors.New("stopped")

// Loading reports whether the script is still being parsed: nothing has
// run and no process exists, so a stop need not wait for anything.
func (rt *Runtime) Loading() bool { return rt.loading.Load() }

// Kill sends SIGKILL to every process group of the run at once.
func (rt *Runtime) Kill() { rt.m.KillAll() }

// Shutdown ends every process of the run and waits for them, as the end
// of Run does; for a caller that gives up on a Run stuck outside Lua.
func (rt *Runtime) Shutdown() { rt.m.Shutdown() }

// Run runs the script's top level, then its tasks, then ends every process
// the run started. It returns nil or an *Error.
func (rt *Runtime) Run() (err error) {
	rt.started = time.Now()
	defer func() {
		rt.cancel(errRunEnded)
		rt.m.Shutdown()
		if stop := rt.stopCause(); stop != nil {
			// The stop decides the status; an error the script raised
			// before it is still reported.
			msg := ""
			var e *Error
			if errors.As(err, &e) {
				msg = e.Msg
			}
			err = &Error{Kind: KindStopped, Msg: msg, Signal: stop.sig, Status: stop.status}
		}
		if r := recover(); r != nil {
			// A bug of ours: report it as an error, never a Go trace.
			err = &Error{Kind: KindRuntime, Msg: fmt.Sprintf("internal error: %v (please report it with the script that caused it)", r)}
		}
	}()
	rt.lock()
	rt.loading.Store(true)
	fn, lerr := rt.L.LoadFile(rt.scriptName)
	rt.loading.Store(false)
	if lerr != nil {
		rt.unlock()
		return &Error{Kind: KindLoad, Msg: loadErrorMessage(rt.scriptName, lerr)}
	}
	rt.prefetchStore()
	rt.L.Push(fn)
	perr := rt.L.PCall(0, 0, nil)
	var msg string
	if perr != nil {
		msg = errorMessage(rt.L, perr)
	}
	rt.unlock()
	if perr != nil {
		if rt.stopCause() != nil {
			return nil // reported by the deferred function
		}
		if rt.defErrors[msg] {
			return &Error{Kind: KindDefinition, Msg: msg}
		}
		return &Error{Kind: KindRuntime, Msg: msg}
	}
	return rt.runTasks()
}

var errRunEnded = errors.New("run ended")

// stopCause returns what stopped the run early, if anything did.
func (rt *Runtime) stopCause() *stopError { return rt.stopped.Load() }

// exit ends the run with status through the normal shutdown (os.exit).
func (rt *Runtime) exit(status int) { rt.stop(&stopError{status: status}) }

// outputClosed stops the run because hazlua's own stdout or stderr is a
// closed pipe, as if by SIGPIPE (the command exits 141).
func (rt *Runtime) outputClosed() { rt.Stop(syscall.SIGPIPE) }

// loadErrorMessage turns a load error into "build.lua:3: syntax error
// near 'x'".
func loadErrorMessage(name string, err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil {
		err = ae.Cause // *lua.ApiError has no Unwrap
	}
	var pe *parse.Error
	if errors.As(err, &pe) {
		msg := strings.TrimSpace(pe.Message)
		if pe.Token != "" {
			msg = fmt.Sprintf("%s near '%s'", msg, pe.Token)
		}
		if pe.Pos.Line <= 0 {
			// The end of the file: name its last line.
			src, _ := os.ReadFile(name)
			line := bytes.Count(bytes.TrimRight(src, "\n"), []byte("\n")) + 1
			return fmt.Sprintf("%s:%d: %s at the end of the file", name, line, msg)
		}
		return fmt.Sprintf("%s:%d: %s", name, pe.Pos.Line, msg)
	}
	return fmt.Sprintf("%s: %v", name, unwrapPathError(err))
}

// errorMessage returns the message of a Lua error as a user should read
// it: the error value (which carries file:line when raised by error() or a
// binding), or a description of a non-string value. L runs a __tostring
// metamethod, so the caller holds the Lua lock.
func errorMessage(L *lua.LState, err error) string {
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	switch v := ae.Object.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case *lua.LTable, *lua.LUserData:
		if L.GetMetaField(v, "__tostring") != lua.LNil {
			if err := L.CallByParam(lua.P{Fn: L.NewFunction(func(L *lua.LState) int {
				L.Push(L.ToStringMeta(L.Get(1)))
				return 1
			}), NRet: 1, Protect: true}, v); err == nil {
				s := L.Get(-1).String()
				L.Pop(1)
				return s
			}
		}
	}
	if ae.Object == nil || ae.Object == lua.LNil {
		return "error object is nil"
	}
	return fmt.Sprintf("error object is a %s value", ae.Object.Type())
}

// writeLine writes one line to w; a closed pipe stops the run (exit 141).
// A line for stderr goes through Notify, so it does not break the status
// line.
func (rt *Runtime) writeLine(w io.Writer, s string) {
	if w == io.Writer(rt.cfg.Stderr) {
		rt.Notify(s)
		return
	}
	if _, err := io.WriteString(w, s); err != nil && errors.Is(err, syscall.EPIPE) {
		rt.outputClosed()
	}
}

// Notify writes line, one of hazlua's own messages ("hazlua: received
// SIGINT, stopping ..."), to stderr, adding a newline if it has none.
// Once tasks run, it goes through their output (runner.Output.Notice),
// which keeps the line apart from the status line without waiting for a
// task's write to a full stdout. It is safe to call from any goroutine;
// it blocks while stderr does, so a caller that must not block calls it
// from a goroutine of its own. A closed stderr stops the run as a closed
// pipe does.
func (rt *Runtime) Notify(line string) {
	var err error
	rt.outMu.Lock()
	if out := rt.out; out != nil {
		rt.outMu.Unlock()
		err = out.Notice(line)
	} else {
		// No task output yet, so no status line: write directly, under
		// outMu, so that the status line cannot start in the middle.
		if line == "" || line[len(line)-1] != '\n' {
			line += "\n"
		}
		_, err = io.WriteString(rt.cfg.Stderr, line)
		rt.outMu.Unlock()
	}
	if err != nil && errors.Is(err, syscall.EPIPE) {
		rt.outputClosed()
	}
}

// setOutput makes out the run's output for Notify.
func (rt *Runtime) setOutput(out *runner.Output) {
	rt.outMu.Lock()
	rt.out = out
	rt.outMu.Unlock()
}
