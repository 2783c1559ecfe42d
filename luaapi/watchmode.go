package luaapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/glob"
	"github.com/hazlua/hazlua/internal/uptodate"
	"github.com/hazlua/hazlua/internal/watch"
	"github.com/hazlua/hazlua/runner"
)

// WatchConfig is watch mode (hazlua -w; docs/api.md, "Watch mode").
type WatchConfig struct {
	// Delay is the debounce: a rerun starts once no change has come for
	// Delay (--watch-delay, default watch.DefaultDelay). Negative: the
	// default.
	Delay time.Duration
	// Clear clears the screen before each rerun (--clear).
	Clear bool
}

// Watch is a script run in watch mode: its tasks run, then rerun when
// their inputs change, and the script is loaded again (a new Runtime)
// when it changes, until Stop. Its methods are those of Runtime that the
// command's stop protocol calls; they act on the current Runtime.
type Watch struct {
	cfg  Config
	wcfg WatchConfig
	fsw  *watch.Watcher

	scripts []string // every script file seen so far: a broken script may not require its files

	mu      sync.Mutex
	cur     *Runtime
	stopSig syscall.Signal // set by Stop
	stopped chan struct{}  // closed by Stop
}

// NewWatch prepares a run of cfg in watch mode: as New, and the watcher.
func NewWatch(cfg Config, wcfg WatchConfig) (*Watch, error) {
	if wcfg.Delay < 0 {
		wcfg.Delay = watch.DefaultDelay
	}
	rt, err := New(cfg)
	if err != nil {
		return nil, err
	}
	// The next Runtimes start in the project root, with the same
	// invocation directory.
	cfg.Script = filepath.Join(rt.root, rt.scriptName)
	cfg.InvocationDir = rt.cfg.InvocationDir
	fsw, err := watch.New(rt.root, wcfg.Delay)
	if err != nil {
		return nil, fatal(err)
	}
	return &Watch{cfg: cfg, wcfg: wcfg, fsw: fsw, cur: rt, stopped: make(chan struct{})}, nil
}

func (w *Watch) current() *Runtime {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// Stop stops the watch and the current run because of sig.
func (w *Watch) Stop(sig syscall.Signal) {
	w.mu.Lock()
	if w.stopSig == 0 {
		w.stopSig = sig
		close(w.stopped)
	}
	rt := w.cur
	w.mu.Unlock()
	rt.Stop(sig)
}

// Kill sends SIGKILL to every process group of the current run.
func (w *Watch) Kill() { w.current().Kill() }

// Loading reports whether the current script is being parsed.
func (w *Watch) Loading() bool { return w.current().Loading() }

// Grace returns the grace period between SIGTERM and SIGKILL.
func (w *Watch) Grace() time.Duration { return w.current().Grace() }

// Shutdown ends every process of the current run and waits for them.
func (w *Watch) Shutdown() { w.current().Shutdown() }

// Notify writes one of hazlua's own lines to stderr.
func (w *Watch) Notify(line string) { w.current().Notify(line) }

// Report returns the last run's outcomes, as Runtime.Report.
func (w *Watch) Report() (*runner.Report, []string) { return w.current().Report() }

// watchError is a failure of the watcher itself (an inotify limit): it
// ends watch mode.
type watchError struct{ err error }

func (e *watchError) Error() string { return e.err.Error() }
func (e *watchError) Unwrap() error { return e.err }

// fatal returns the *Error that ends watch mode for the watcher's err.
func fatal(err error) error {
	return &Error{Kind: KindRuntime, Msg: err.Error(), Err: &watchError{err}}
}

// errWatcherEnded: the watcher's channel closed (it cannot, short of a
// bug in it or in fsnotify).
var errWatcherEnded = errors.New("the file watcher stopped")

// errReload ends a Runtime's run when the script changed: Watch loads it
// again.
var errReload = errors.New("the script changed")

// Run runs the script, its tasks and their reruns, loading the script
// again when it changes, until Stop (an *Error of KindStopped) or an
// error watching can't get over (an inotify limit, an *Error).
func (w *Watch) Run() error {
	defer w.fsw.Close()
	rt := w.current()
	for {
		rt.watch = &watchState{w: w, services: map[string]*service{}}
		err := rt.Run()
		if rt.stopCause() != nil {
			return err
		}
		var we *watchError
		if errors.As(err, &we) {
			return err // watching cannot go on
		}
		for _, f := range rt.scriptFiles() {
			if !slices.Contains(w.scripts, f) {
				w.scripts = append(w.scripts, f)
			}
		}
		scripts := w.scripts
		if !errors.Is(err, errReload) {
			// The script failed (or ran no task): say so, and wait for it
			// to change.
			var e *Error
			if errors.As(err, &e) && e.Msg != "" {
				rt.Notify(rt.prefix() + e.Msg)
			}
			what := "the script has an error"
			if err == nil {
				what = "no task to run"
			}
			if err := w.waitScript(rt, scripts, what); err != nil {
				return err
			}
		}
		for {
			next, err := New(w.cfg)
			if err == nil {
				rt = next
				break
			}
			rt.Notify(rt.prefix() + err.Error())
			if err := w.waitScript(rt, scripts, "the script cannot be loaded"); err != nil {
				return err
			}
		}
		w.mu.Lock()
		w.cur = rt
		sig := w.stopSig
		w.mu.Unlock()
		if sig != 0 {
			return &Error{Kind: KindStopped, Signal: sig}
		}
	}
}

// waitScript watches the script files until one changes, saying so
// first; it returns an *Error of KindStopped if Stop comes first.
func (w *Watch) waitScript(rt *Runtime, scripts []string, why string) error {
	set := watch.NewSet(nil, scripts)
	w.fsw.SetIgnore(set.Ignored)
	if _, err := w.fsw.Watch(set.Dirs(isDir)); err != nil {
		return fatal(err)
	}
	rt.Notify(fmt.Sprintf("%s%s; watching %s for changes (Ctrl-C to stop)", rt.prefix(), why, strings.Join(scripts, ", ")))
	for {
		select {
		case <-w.stopped:
			w.mu.Lock()
			sig := w.stopSig
			w.mu.Unlock()
			return &Error{Kind: KindStopped, Signal: sig}
		case err := <-w.fsw.Errors():
			rt.warn(err.Error())
		case batch, ok := <-w.fsw.Batches():
			if !ok {
				return fatal(errWatcherEnded)
			}
			c := set.Classify(batch)
			if c.Script {
				w.say(rt, fmt.Sprintf("%s%s; loading the script again", rt.prefix(), changedPaths(c.Paths)))
				return nil
			}
		}
	}
}

// say writes a line that starts a rerun, after clearing the screen with
// --clear.
func (w *Watch) say(rt *Runtime, line string) {
	if w.wcfg.Clear {
		rt.outMu.Lock()
		fmt.Fprint(rt.cfg.Stderr, "\x1b[H\x1b[2J\x1b[3J")
		rt.outMu.Unlock()
	}
	rt.Notify(line)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// changedPaths returns "a changed", "a, b changed" or "a, b, c and 4
// more changed".
func changedPaths(paths []string) string {
	const show = 3
	if len(paths) <= show {
		return strings.Join(paths, ", ") + " changed"
	}
	return fmt.Sprintf("%s and %d more changed", strings.Join(paths[:show], ", "), len(paths)-show)
}

// scriptFiles returns the script and the Lua files it required, relative
// to the project root.
func (rt *Runtime) scriptFiles() []string {
	files := []string{rt.scriptName}
	rt.requiredMu.Lock()
	for _, f := range rt.required {
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	rt.requiredMu.Unlock()
	return files
}

// noteRequires wraps require's Lua file loader (package.loaders[2]) so
// that, in watch mode, the files the script requires are watched too.
func (rt *Runtime) noteRequires(L *lua.LState, pkg *lua.LTable) {
	loaders, ok := pkg.RawGetString("loaders").(*lua.LTable)
	if !ok {
		return
	}
	orig, ok := loaders.RawGetInt(2).(*lua.LFunction)
	if !ok {
		return
	}
	loaders.RawSetInt(2, L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		L.Push(orig)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		if _, ok := L.Get(-1).(*lua.LFunction); ok && rt.watch != nil {
			rt.noteRequired(L, name)
		}
		return 1
	}))
}

// noteRequired records the file that require(name) loaded: the first
// package.path match, as the loader found it, if it is under the root.
func (rt *Runtime) noteRequired(L *lua.LState, name string) {
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	path := lua.LVAsString(pkg.RawGetString("path"))
	file := strings.ReplaceAll(name, ".", string(filepath.Separator))
	for tmpl := range strings.SplitSeq(path, ";") {
		p := strings.ReplaceAll(tmpl, "?", file)
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			if rel, err := filepath.Rel(rt.root, abs); err == nil && !strings.HasPrefix(rel, "..") {
				rt.requiredMu.Lock()
				rt.required = append(rt.required, filepath.ToSlash(rel))
				rt.requiredMu.Unlock()
			}
		}
		return
	}
}

// watchState is a Runtime's part of watch mode: which tasks the current
// rerun is for, and the services left running.
type watchState struct {
	w *Watch

	mu       sync.Mutex
	rerun    bool            // not the first run: tasks without inputs run only when dirty
	dirty    map[string]bool // the tasks the change made out of date
	direct   map[string]bool // those an input of which changed (services restart only then)
	services map[string]*service
}

// service is a running service task (service = true).
type service struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// intercept runs a task body the watch mode way, and reports whether it
// did (then err is the body's result): a service is started on a
// goroutine of its own, or left running (up to date); on a rerun, a task
// without inputs (or always) is up to date unless the change reaches it.
func (ws *watchState) intercept(rt *Runtime, tc *runner.TaskContext, fn *lua.LFunction) (done bool, err error) {
	t := tc.Task()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if t.Service {
		s := ws.services[t.Name]
		if s != nil {
			select {
			case <-s.done:
				s = nil // it ended: start it again
			default:
			}
		}
		if s != nil && !ws.direct[t.Name] {
			return true, runner.ErrUpToDate // left running
		}
		if s != nil {
			// Its inputs changed: the change cancelled it; wait for its
			// end.
			s.cancel(&runner.ChangedError{Why: "inputs changed"})
			ws.mu.Unlock()
			<-s.done
			ws.mu.Lock()
		}
		ctx, cancel := context.WithCancelCause(rt.ctx)
		s = &service{cancel: cancel, done: make(chan struct{})}
		ws.services[t.Name] = s
		go func() {
			defer close(s.done)
			err := rt.runBody(ctx, tc, fn, false)
			if err != nil && ctx.Err() == nil {
				rt.Notify(fmt.Sprintf("%sservice %s ended: %v (it starts again at the next rerun)", rt.prefix(), t.Name, err))
			} else if err == nil {
				rt.Notify(fmt.Sprintf("%sservice %s ended (it starts again at the next rerun)", rt.prefix(), t.Name))
			}
		}()
		return true, nil
	}
	if ws.rerun && !ws.dirty[t.Name] && (t.Inputs == nil || t.Always) {
		return true, runner.ErrUpToDate
	}
	return false, nil
}

// begin starts a rerun for the change c (nil: the first run).
func (ws *watchState) begin(c *watch.Change) {
	ws.mu.Lock()
	ws.rerun = c != nil
	ws.dirty, ws.direct = nil, nil
	if c != nil {
		ws.dirty, ws.direct = c.Dirty, map[string]bool{}
		for _, name := range c.Tasks {
			ws.direct[name] = true
		}
	}
	ws.mu.Unlock()
}

// cancelServices cancels the running services an input of which changed:
// tasks names them.
func (ws *watchState) cancelServices(tasks []string, why string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for name, s := range ws.services {
		if slices.Contains(tasks, name) {
			s.cancel(&runner.ChangedError{Why: why})
		}
	}
}

// restarts reports whether a rerun for c runs task t: a service only when
// its inputs changed, another task when the change reaches it.
func restarts(t *runner.Task, c *watch.Change) bool {
	if t.Service {
		return slices.Contains(c.Tasks, t.Name)
	}
	return c.Dirty[t.Name] && t.Run != nil
}

// watchSet returns the watched graph of plan, and the script files.
func (rt *Runtime) watchSet(plan *runner.Plan) *watch.Set {
	var tasks []watch.Task
	for _, t := range plan.Tasks() {
		wt := watch.Task{Name: t.Name, Deps: t.Deps, Inputs: t.Inputs, Outputs: t.Outputs}
		if t.Inputs != nil {
			wt.Files, _ = glob.Expand(t.Inputs)
		}
		tasks = append(tasks, wt)
	}
	return watch.NewSet(tasks, rt.scriptFiles())
}

// watchTasks runs the plan's tasks in watch mode: then, each time their
// inputs change, again for what the change made out of date, cancelling
// the running tasks it made out of date. It returns errReload when the
// script changed, nil when the run was stopped, or an *Error.
func (rt *Runtime) watchTasks(plan *runner.Plan) error {
	ws := rt.watch
	fsw := ws.w.fsw
	out, err := rt.newOutput()
	if err != nil {
		return err
	}
	setUp := func() (*watch.Set, int, error) {
		set := rt.watchSet(plan)
		fsw.SetIgnore(set.Ignored)
		n, err := fsw.Watch(set.Dirs(isDir))
		if err != nil {
			return nil, 0, fatal(err)
		}
		return set, n, nil
	}
	var change *watch.Change // what the rerun is for; nil: the first run
	first := true
	for {
		set, _, err := setUp()
		if err != nil {
			return err
		}
		var store *uptodate.Store
		if first {
			store = rt.openStore() // the one loaded while the script ran
		} else {
			store = uptodate.Open(rt.storeConfig(rt.warn))
		}
		first = false
		ws.begin(change)
		ctx, cancel := context.WithCancelCause(rt.ctx)
		changed := make(chan runner.Change, 64)
		done := make(chan *runner.Report, 1)
		go func() {
			done <- runner.Run(ctx, plan, runner.Options{Jobs: rt.cfg.Jobs, Policy: rt.policy(), Output: out,
				Store: store, Explain: rt.cfg.Explain || rt.cfg.Verbose, Trace: rt.cfg.Trace, Changed: changed})
		}()
		var next watch.Change // what changed while the run ran
		reload := false
		var rep *runner.Report
	running:
		for {
			select {
			case rep = <-done:
				break running
			case err := <-fsw.Errors():
				rt.warn(err.Error())
			case batch, ok := <-fsw.Batches():
				if !ok {
					cancel(errWatcherEnded)
					<-done
					return fatal(errWatcherEnded)
				}
				c := set.Classify(batch)
				if c.Empty() {
					continue
				}
				merge(&next, c)
				if c.Script {
					reload = true
					cancel(errReload)
					continue
				}
				why := changedPaths(c.Paths)
				ws.cancelServices(c.Tasks, why)
				select {
				case changed <- runner.Change{Tasks: c.Dirty, Why: why, Cancelled: func(names []string) {
					rt.Notify(fmt.Sprintf("%s%s; cancelling %s", rt.prefix(), why, strings.Join(names, ", ")))
				}}:
				default: // the run is far behind: it reruns them anyway
				}
			}
		}
		cancel(nil)
		if err := store.Close(); err != nil {
			rt.warn(fmt.Sprintf("saving the up-to-date state: %v (the next run reruns what this one did)", err))
		}
		rt.report.Store(rep)
		out.Summary(rep)
		switch {
		case rt.stopCause() != nil:
			return nil
		case reload:
			ws.w.say(rt, fmt.Sprintf("%s%s; loading the script again", rt.prefix(), changedPaths(next.Paths)))
			return errReload
		}
		if next.Empty() {
			set, n, err := setUp()
			if err != nil {
				return err
			}
			rt.Notify(fmt.Sprintf("%swatching %d %s for changes (Ctrl-C to stop)", rt.prefix(), n, plural(n, "directory", "directories")))
		wait:
			for {
				select {
				case <-rt.ctx.Done():
					return nil
				case err := <-fsw.Errors():
					rt.warn(err.Error())
				case batch, ok := <-fsw.Batches():
					if !ok {
						return fatal(errWatcherEnded)
					}
					if c := set.Classify(batch); !c.Empty() {
						next = c
						break wait
					}
				}
			}
		}
		if next.Script {
			ws.w.say(rt, fmt.Sprintf("%s%s; loading the script again", rt.prefix(), changedPaths(next.Paths)))
			return errReload
		}
		var names []string
		for _, t := range plan.Tasks() {
			if restarts(t, &next) {
				names = append(names, t.Name)
			}
		}
		what := "rerunning " + strings.Join(names, ", ")
		if len(names) == 0 {
			what = "no task body to rerun" // an aggregate's inputs changed
		}
		ws.w.say(rt, fmt.Sprintf("%s%s; %s", rt.prefix(), changedPaths(next.Paths), what))
		change = &next
	}
}

// merge adds c to into.
func merge(into *watch.Change, c watch.Change) {
	into.Paths = append(into.Paths, c.Paths...)
	slices.Sort(into.Paths)
	into.Paths = slices.Compact(into.Paths)
	into.Script = into.Script || c.Script
	into.Tasks = append(into.Tasks, c.Tasks...)
	if into.Dirty == nil {
		into.Dirty = map[string]bool{}
	}
	for k := range c.Dirty {
		into.Dirty[k] = true
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
