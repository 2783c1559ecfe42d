package luaapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/hazlua/hazlua/internal/gitchanges"
	"github.com/hazlua/hazlua/internal/report"
	"github.com/hazlua/hazlua/internal/uptodate"
	"github.com/hazlua/hazlua/proc"
	"github.com/hazlua/hazlua/runner"
)

// runTasks runs the tasks the command line names (or "default"), after the
// top level: or lists them (-l), or prints the plan (-n).
func (rt *Runtime) runTasks() error {
	if rt.cfg.List {
		return rt.list()
	}
	targets, err := rt.setParams(rt.cfg.Tasks)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		if !rt.graph.Has("default") {
			if rt.cfg.DryRun {
				fmt.Fprintln(rt.cfg.Stdout, rt.prefix()+"no task named and no task \"default\": only the top level runs")
			}
			return nil
		}
		targets = []string{"default"}
	}
	rt.targets = targets
	plan, err := rt.graph.Plan(targets)
	if err != nil {
		return &Error{Kind: KindDefinition, Msg: err.Error(), Err: err}
	}
	if rt.cfg.Graph {
		rt.writeLine(rt.cfg.Stdout, string(report.Graph(plan)))
		return nil
	}
	if err := plan.CheckParams(); err != nil {
		return &Error{Kind: KindUsage, Msg: err.Error(), Err: err}
	}
	if rt.watch != nil {
		return rt.watchTasks(plan)
	}
	store := rt.openStore()
	defer func() {
		if err := store.Close(); err != nil {
			rt.warn(fmt.Sprintf("saving the up-to-date state: %v (the next run reruns what this one did)", err))
		}
	}()
	sel := rt.selection(plan)
	if rt.cfg.DryRun {
		rt.printPlan(runner.Predict(plan, store, sel))
		return nil
	}
	out, err := rt.newOutput()
	if err != nil {
		return err
	}
	policy := rt.policy()
	rep := runner.Run(rt.ctx, plan, runner.Options{Jobs: rt.cfg.Jobs, Policy: policy, Output: out,
		Store: store, Explain: rt.cfg.Explain || rt.cfg.Verbose, Trace: rt.cfg.Trace, Select: sel})
	rt.report.Store(rep)
	out.Summary(rep)
	if !rep.Failed() {
		return nil
	}
	kind := KindRuntime
	for _, oc := range rep.Outcomes {
		var te *taskError
		var ge *runner.GraphError
		if errors.As(oc.Err, &te) && te.definition || errors.As(oc.Err, &ge) {
			kind = KindDefinition // a task definition error, found late
		}
	}
	msg := ""
	if rt.cfg.Quiet {
		// No summary: still say what failed.
		if oc := rep.Outcome(rep.FirstFailure); oc != nil {
			msg = fmt.Sprintf("task %s %s", oc.Task.Name, oc.Status)
			if oc.Err != nil {
				msg += ": " + oc.Err.Error()
			}
		}
	}
	return &Error{Kind: kind, Msg: msg}
}

// newOutput makes the task run's output (-o, --color, -q, the status
// line on a terminal) and makes it the run's output for Notify.
func (rt *Runtime) newOutput() (*runner.Output, error) {
	mode, err := runner.ParseMode(rt.cfg.Output)
	if err != nil {
		return nil, &Error{Kind: KindUsage, Msg: err.Error(), Err: err}
	}
	status := mode != runner.Raw && !rt.cfg.Quiet && term.IsTerminal(int(rt.cfg.Stderr.Fd()))
	out := runner.NewOutput(rt.cfg.Stdout, rt.cfg.Stderr, mode, rt.cfg.Color, rt.cfg.Quiet, status)
	out.SetName(rt.cfg.Name)
	if status {
		if w, _, err := term.GetSize(int(rt.cfg.Stderr.Fd())); err == nil {
			out.SetStatusWidth(w)
		}
	}
	out.SetErrorHandler(func(err error) {
		var we *runner.WriteError
		if errors.As(err, &we) && we.BrokenPipe() {
			rt.outputClosed()
		}
	})
	rt.setOutput(out)
	return out, nil
}

// policy returns the failure policy of -k and --fail-fast.
func (rt *Runtime) policy() runner.Policy {
	switch {
	case rt.cfg.KeepGoing:
		return runner.KeepGoing
	case rt.cfg.FailFast:
		return runner.FailFast
	}
	return runner.Default
}

// printPlan prints what a run would do with each task, in the order a -j1
// run starts them (-n): "3/5 link: will run (input src/a.c changed) after
// compile". No task body runs.
func (rt *Runtime) printPlan(preds []runner.Prediction) {
	var b strings.Builder
	for i, p := range preds {
		t := p.Task
		why := p.Action.String()
		switch {
		case p.NotSelected != "":
			why = p.NotSelected
		case t.Run == nil:
			why = "aggregate (dependencies only)"
		case p.Reason != "":
			why += " (" + p.Reason + ")"
		}
		fmt.Fprintf(&b, "%d/%d %s: %s", i+1, len(preds), t.Name, why)
		if len(t.Deps) > 0 {
			fmt.Fprintf(&b, " after %s", strings.Join(t.Deps, ", "))
		}
		b.WriteString("\n")
	}
	rt.writeLine(rt.cfg.Stdout, b.String())
}

// selection returns the tasks of plan that --changed-since selects: those
// whose inputs match a changed file, and their dependents; nil without
// --changed-since.
func (rt *Runtime) selection(plan *runner.Plan) *runner.Selection {
	if rt.changes == nil {
		return nil
	}
	return plan.Select(func(t *runner.Task) bool {
		_, ok := rt.changes.Match(t.Inputs)
		return ok
	}, "unchanged since "+rt.changes.Rev)
}

// warn writes "hazlua: warning: msg" on stderr: for what does not stop
// the run, such as an unusable cache.
func (rt *Runtime) warn(msg string) { rt.Notify(rt.prefix() + "warning: " + msg) }

// prefetchStore starts loading the up-to-date state (.haz) on a goroutine
// of its own while the script's top level runs, when there is one to load
// and tasks may run: it is on the no-op run's critical path otherwise.
// Its warnings wait for openStore.
func (rt *Runtime) prefetchStore() {
	dir := filepath.Join(rt.root, uptodate.StateDir)
	if rt.cfg.List {
		return
	}
	if _, err := os.Stat(dir); err != nil {
		return
	}
	ch := make(chan prefetched, 1)
	rt.prefetch = ch
	go func() {
		var p prefetched
		p.store = uptodate.Open(rt.storeConfig(func(msg string) { p.warnings = append(p.warnings, msg) }))
		ch <- p
	}()
}

// prefetched is what prefetchStore loaded, and the warnings it gave.
type prefetched struct {
	store    *uptodate.Store
	warnings []string
}

// openStore returns the run's up-to-date Store: the one prefetchStore
// loaded, unless the script (or another run) changed .haz meanwhile, else
// a new one.
func (rt *Runtime) openStore() *uptodate.Store {
	if rt.prefetch != nil {
		p := <-rt.prefetch
		if !p.store.Changed() {
			for _, w := range p.warnings {
				rt.warn(w)
			}
			p.store.SetWarn(rt.warn)
			return p.store
		}
	}
	return uptodate.Open(rt.storeConfig(rt.warn))
}

// storeConfig is the Store's configuration, with warn for its warnings.
func (rt *Runtime) storeConfig(warn func(string)) uptodate.Config {
	cfg := uptodate.Config{
		Dir:      filepath.Join(rt.root, uptodate.StateDir),
		CacheDir: rt.cfg.CacheDir,
		NoCache:  rt.cfg.NoCache,
		Warn:     warn,
	}
	if !rt.cfg.DryRun {
		cfg.Remote, cfg.Context = rt.cfg.Remote, rt.ctx
	}
	return cfg
}

// runGit runs git for --changed-since (a gitchanges.Runner) through proc,
// whose reaper would take the exit status of a child started otherwise.
func (rt *Runtime) runGit(dir string, args []string) (stdout, stderr []byte, err error) {
	env := append(os.Environ(), gitchanges.Env...)
	path, err := proc.LookPath("git", proc.Getenv(env, "PATH"), "")
	if err != nil {
		return nil, nil, err
	}
	spec := &proc.Spec{Path: path, Args: append([]string{"git"}, args...), Env: env, Dir: dir,
		Stdout: proc.Output{Kind: proc.OutCapture}, Stderr: proc.Output{Kind: proc.OutCapture}}
	g, err := rt.m.Start(context.Background(), proc.Options{Awaited: true}, spec)
	if err != nil {
		return nil, nil, err
	}
	<-g.Done()
	p := g.Procs[0]
	stdout, _ = p.StdoutCapture().Bytes()
	stderr, _ = p.StderrCapture().Bytes()
	if r := p.Result(); !r.OK() {
		return stdout, stderr, fmt.Errorf("git %s", r)
	}
	return stdout, stderr, nil
}
