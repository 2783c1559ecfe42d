package runner

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/glob"
	"github.com/hazlua/hazlua/internal/uptodate"
)

// execution is one task's part of a run, on a goroutine of its own: the
// up-to-date check, then the body (or a restore from the cache), then
// the record of a success. It reports to done.
type execution struct {
	i      int32
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc // the timeout's, or nil
	tc     TaskContext
	start  time.Time
	deps   []fingerprint.DepOutput // the dependencies' outputs (with a Store and Inputs)
	run    *runState               // read-only here: Options and the Plan's output index
}

// spec returns what the up-to-date check sees of t.
func (t *Task) spec() *uptodate.Spec {
	sp := &uptodate.Spec{Name: t.Name, Deps: t.Deps, Inputs: t.Inputs, Outputs: t.Outputs,
		Key: t.Key, Env: t.Env, Source: t.Source, Always: t.Always}
	for _, p := range t.Params {
		sp.Params = append(sp.Params, fingerprint.EnvVar{Name: p.Name, Value: p.Value, Set: true})
	}
	return sp
}

// exec runs the task and sends its result to the run, with the channel
// on which the worker (see runState.worker) waits for another execution,
// if it is to wait: *w, made if needed, or nil.
func (e *execution) exec(w *chan *execution) {
	r := e.result()
	r.i = e.i
	r.dur = time.Since(e.start)
	if e.ctx.Err() != nil {
		r.cause = context.Cause(e.ctx)
	}
	e.cancel(ErrTaskEnded)
	if e.stop != nil {
		e.stop()
	}
	e.tc.sink.Close()
	r.tail = e.tc.sink.Tail()
	r.worker = e.run.keep(w)
	e.run.done <- r
}

// result does the work of exec.
func (e *execution) result() result {
	t, store, out := e.tc.task, e.run.opt.Store, e.run.opt.Output
	var spec *uptodate.Spec
	var chk *uptodate.Check
	switch {
	case t.Inputs != nil && store != nil:
		spec = t.spec()
		chk = store.Check(spec, e.deps)
		e.tc.inputs = chk.Inputs
		e.run.p.outputs.checkReads(e.run, e.i, chk.Inputs)
		if e.run.opt.Explain {
			out.explain(t.Name, chk.Action, chk.Reason)
		}
		switch chk.Action {
		case uptodate.UpToDate:
			return result{status: UpToDate, outputs: chk.Outputs}
		case uptodate.Restore:
			if e.ctx.Err() == nil {
				if log, err := store.Restore(spec, chk); err == nil {
					if log != nil {
						e.tc.sink.Replay(log)
						log.Close()
					}
					return result{status: Cached, outputs: chk.Outputs, reason: chk.Reason}
				}
			}
		}
	case t.Inputs != nil:
		e.tc.inputs, _ = glob.Expand(t.Inputs) // patterns were checked at Graph.Add's caller
	case store != nil && e.run.opt.Explain:
		out.explain(t.Name, uptodate.Run, uptodate.ReasonNoInputs)
	}
	r := result{reason: reasonOf(chk)}
	if err := e.ctx.Err(); err != nil {
		r.err = err // stopped while checking: the body does not start
		return r
	}
	recording := chk != nil && !t.Always
	if recording {
		e.tc.sink.Record()
	}
	r.err = e.body()
	if recording {
		e.tc.sink.Close() // flush the last partial line into the recording
	}
	if r.err != nil || store == nil || (chk == nil && len(t.Outputs) == 0) {
		if recording {
			if _, release, ok := e.tc.sink.TakeRecording(); ok {
				release()
			}
		}
		return r
	}
	if spec == nil {
		spec = t.spec()
	}
	var log io.Reader
	var release func()
	if recording {
		log, release, _ = e.tc.sink.TakeRecording()
	}
	r.outputs, r.err = store.Commit(spec, chk, log, release)
	if r.err != nil && t.Pos != "" {
		r.err = fmt.Errorf("%s: %w", t.Pos, r.err) // the declaration is at fault
	}
	return r
}

// body runs the task's body, turning a panic into its failure.
func (e *execution) body() (err error) {
	returned := false
	defer func() {
		// recover only when Run did not return: recover walks the stack,
		// which costs a body that returned a stack growth (Go 1.26).
		if returned {
			return
		}
		if v := recover(); v != nil {
			err = &PanicError{Task: e.tc.task.Name, Value: v}
		}
	}()
	err = e.tc.task.Run(e.ctx, &e.tc)
	returned = true
	return err
}

// reasonOf returns why the check ran the task, or "".
func reasonOf(c *uptodate.Check) string {
	if c == nil {
		return ""
	}
	return c.Reason
}
