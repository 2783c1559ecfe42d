package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/trace"
	"github.com/hazlua/hazlua/internal/uptodate"
)

// Policy says what a run does after a task fails or times out (docs/api.md: Failure policy and outcomes).
// The zero value is Default.
type Policy int

const (
	// Default starts no new task after a failure and lets running tasks
	// finish (like make and ninja).
	Default Policy = iota
	// KeepGoing (-k) keeps starting tasks that do not depend on a failed
	// task.
	KeepGoing
	// FailFast (--fail-fast) starts no new task and cancels running tasks
	// at once.
	FailFast
)

// String returns "default", "keep-going" or "fail-fast".
func (p Policy) String() string {
	switch p {
	case Default:
		return "default"
	case KeepGoing:
		return "keep-going"
	case FailFast:
		return "fail-fast"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Options configure Run. The zero value runs with no task cap, the
// Default policy and no output (task output is discarded).
type Options struct {
	// Jobs caps the task bodies running at once. Zero or negative: no cap.
	// Aggregate tasks take no slot.
	Jobs int
	// Policy is the failure policy.
	Policy Policy
	// Output receives the tasks' output and the status line, whose total
	// counts the tasks with a body. Nil: task output is discarded. An
	// Output shows the status of one Run at a time.
	Output *Output
	// Store, if set, makes tasks with Inputs skip when up to date and
	// restore from the cache (docs/api.md, "Up to date and the cache"),
	// and checks every task's declared Outputs after a success. Nil:
	// every task runs and outputs are not checked. Run does not close it.
	Store *uptodate.Store
	// Explain prints, for each task with a body, why it runs, is up to
	// date or is restored ("hazlua: explain: link: will run (input
	// src/a.c changed)").
	Explain bool
	// Select, if set, runs only the tasks it selects (--changed-since);
	// the others end NotSelected at once, without a slot. It must have
	// been made by Select of the plan that Run runs (else it is ignored).
	Select *Selection
	// Trace, if set, records each task with a body as a slice on the
	// track of the task slot it ran in, after the time it waited for a
	// slot, a mutex or a tag cap (--trace).
	Trace *trace.Recorder

	// Changed, if set, tells the run that tasks are out of date (watch
	// mode): those of them that are running are cancelled, with cause
	// *ChangedError, and end Cancelled; the run goes on.
	Changed <-chan Change

	// onFinish, if set, is called on Run's goroutine after each task's end
	// has been processed (tests use it to order events without sleeping).
	onFinish func(name string, s Status)
}

// ErrTaskEnded is the cause (context.Cause) of a task's context once its
// body has returned: whatever the task left running should now stop.
var ErrTaskEnded = errors.New("runner: task ended")

// TimeoutError is the cause (context.Cause) of a task's context when its
// Timeout expired.
type TimeoutError struct {
	Task    string        // the task that timed out
	Timeout time.Duration // its Timeout
}

// Error returns "task NAME timed out after DURATION".
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("task %s timed out after %v", e.Task, e.Timeout)
}

// FailFastError is the cause (context.Cause) of a running task's context
// when --fail-fast cancelled it because task After failed.
type FailFastError struct {
	After string // the task whose failure triggered the cancellation
}

// Error returns "cancelled (fail-fast after NAME)".
func (e *FailFastError) Error() string {
	return fmt.Sprintf("cancelled (fail-fast after %s)", e.After)
}

// Change names tasks made out of date while a run runs (Options.Changed).
type Change struct {
	Tasks map[string]bool
	Why   string // what changed: "src/a.c changed"
	// Cancelled, if set, is called on Run's goroutine with the running
	// tasks the change cancelled, in plan order, if there are any.
	Cancelled func(names []string)
}

// ChangedError is the cause (context.Cause) of a running task's context
// when Options.Changed cancelled it.
type ChangedError struct {
	Why string
}

// Error returns "cancelled (WHY)".
func (e *ChangedError) Error() string { return "cancelled (" + e.Why + ")" }

// PanicError is the error of a task whose body panicked.
type PanicError struct {
	Task  string // the task whose body panicked
	Value any    // the value passed to panic
}

// Error returns "task NAME: panic: VALUE".
func (e *PanicError) Error() string {
	return fmt.Sprintf("task %s: panic: %v", e.Task, e.Value)
}

// Node states during a run.
const (
	stWaiting uint8 = iota // dependencies pending
	stQueued               // ready: in the ready heap or a wait queue
	stRunning
	stDone // finished (any status) or aggregate completed
)

// Results of runState.blocker.
const (
	admitted  int32 = -2
	needsSlot int32 = -1
)

// waitQueue holds tasks blocked by one condition: a mutex held (for
// exclusive or for shared waiters) or a tag cap reached.
type waitQueue struct {
	heap  prioHeap
	awake bool // listed in runState.awake
}

// result is what a finished task's goroutine sends back.
type result struct {
	i       int32
	err     error
	cause   error  // context.Cause of the task's context if it was done before the body returned
	status  Status // UpToDate or Cached when the body did not run; else decided by finish
	reason  string // why the up-to-date check ran or restored the task
	outputs []fingerprint.File
	dur     time.Duration
	tail    []string
	worker  chan *execution // the goroutine that ran it, waiting for another; nil: it exited
}

// runState is one run's scheduler. All of it is owned by Run's goroutine;
// bodies talk back only through done.
type runState struct {
	p   *Plan
	opt Options
	ctx context.Context

	out     []Outcome
	state   []uint8
	pending []int32 // dependencies not yet succeeded
	root    []int32 // failed task behind a failure or a dependency failure, or -1

	ready   prioHeap // ready tasks blocked only (if at all) by the task cap
	queues  []waitQueue
	awake   []int32 // queues whose condition may admit their head
	tagBase int32   // queue index of tag 0; mutex m has 2m (exclusive) and 2m+1 (shared)

	running int     // bodies running
	mutexN  []int32 // holders of each mutex
	mutexX  []bool  // mutex held exclusively
	tagN    []int   // running tasks per capped tag
	cancel  []context.CancelCauseFunc

	tr      *traceState          // with Options.Trace
	outputs [][]fingerprint.File // each succeeded task's outputs (with a Store; made by the first)
	claimed map[string]int32     // output path → the task that produced it in this run

	done      chan result
	idle      []chan *execution // workers waiting for a task to run (see start)
	waiting   atomic.Int32      // workers in idle or on their way there
	maxIdle   int32             // how many workers may wait
	work      []int32           // scratch for completion propagation
	stopping  bool
	stopCause string // "stopped after X failed", "interrupted"
	firstFail int32
	interrupt bool
}

// Run runs the plan's tasks and returns when every started body has
// returned. Each body runs on its own goroutine with its own context, a
// child of ctx (with the task's Timeout as deadline), cancelled when the
// body returns (cause ErrTaskEnded). Cancelling ctx interrupts the run: no
// new task starts and running bodies see their context done; Run still
// waits for them.
//
// Run is safe to call concurrently with other Runs of the same plan. It
// never panics on a body's panic: that task fails.
func Run(ctx context.Context, p *Plan, opt Options) *Report {
	start := time.Now()
	if p == nil {
		p = &Plan{}
	}
	if opt.Select != nil && opt.Select.plan != p {
		opt.Select = nil
	}
	s := newRunState(ctx, p, opt)
	bodies := 0
	for i, b := range p.body {
		if b && opt.Select.has(int32(i)) {
			bodies++
		}
	}
	opt.Output.begin(bodies)
	if ctx.Err() == nil {
		for i := range p.tasks {
			if s.state[i] == stWaiting && s.pending[i] == 0 {
				s.becomeReady(int32(i))
			}
		}
		s.dispatch()
	}
	ctxDone := ctx.Done()
	for s.running > 0 {
		select {
		case r := <-s.done:
			if ctxDone != nil && ctx.Err() != nil {
				// Both were ready and select picked the result: a body
				// that ended because of the interrupt must count as
				// interrupted, so the interrupt is recorded first.
				ctxDone = nil
				s.interrupted()
			}
			s.finish(r)
			s.dispatch()
		case <-ctxDone:
			ctxDone = nil
			s.interrupted()
		case c := <-opt.Changed:
			s.changed(c)
		}
	}
	if ctx.Err() != nil && slices.ContainsFunc(s.state, func(st uint8) bool { return st != stDone }) {
		s.interrupted() // cancelled after the last body ended, before the rest started
	}
	for _, w := range s.idle {
		close(w) // every body has returned: its worker waits here
	}
	s.finalize()
	opt.Output.end()
	r := &Report{
		Outcomes:    s.out,
		Elapsed:     time.Since(start),
		Interrupted: s.interrupt,
	}
	if s.firstFail >= 0 {
		r.FirstFailure = p.tasks[s.firstFail].Name
	}
	return r
}

func newRunState(ctx context.Context, p *Plan, opt Options) *runState {
	n := len(p.tasks)
	s := &runState{
		tr:        newTraceState(opt.Trace, len(p.tasks)),
		p:         p,
		opt:       opt,
		ctx:       ctx,
		out:       make([]Outcome, n),
		state:     make([]uint8, n),
		pending:   make([]int32, n),
		root:      make([]int32, n),
		ready:     prioHeap{prio: p.prio},
		tagBase:   int32(2 * len(p.mutexNames)),
		mutexN:    make([]int32, len(p.mutexNames)),
		mutexX:    make([]bool, len(p.mutexNames)),
		tagN:      make([]int, len(p.tagNames)),
		cancel:    make([]context.CancelCauseFunc, n),
		firstFail: -1,
	}
	s.queues = make([]waitQueue, int(s.tagBase)+len(p.tagNames))
	for q := range s.queues {
		s.queues[q].heap.prio = p.prio
	}
	for i := range n {
		s.out[i].Task = p.tasks[i]
		s.pending[i] = p.depOff[i+1] - p.depOff[i]
		s.root[i] = -1
	}
	buf := 256
	s.maxIdle = 64 // no cap: as many as are likely to be reused
	if opt.Jobs > 0 {
		buf = opt.Jobs
		s.maxIdle = int32(opt.Jobs) // at most Jobs run at once
	}
	s.done = make(chan result, buf)
	return s
}

// becomeReady handles node i whose dependencies have all succeeded: an
// aggregate completes at once, a task with a body is queued.
func (s *runState) becomeReady(i int32) {
	if !s.opt.Select.has(i) {
		s.leaveOut(i)
		s.complete(i)
		return
	}
	if s.p.body[i] {
		s.state[i] = stQueued
		s.ready.push(i)
		s.tr.queued(i)
		return
	}
	s.aggregateDone(i)
	s.complete(i)
}

// leaveOut records the outcome of node i, which the Selection left out:
// NotSelected, with the Selection's cause (and an --explain line for a
// task with a body).
func (s *runState) leaveOut(i int32) {
	s.state[i] = stDone
	s.out[i].Status = NotSelected
	s.out[i].Cause = s.opt.Select.Cause()
	if t := s.p.tasks[i]; s.opt.Store != nil && len(t.Outputs) > 0 && s.opt.Select.feedsSelected(i) {
		// A selected dependent's fingerprint sees them as they are.
		if s.outputs == nil {
			s.outputs = make([][]fingerprint.File, len(s.p.tasks))
		}
		s.outputs[i] = s.opt.Store.OutputsNow(t.Outputs)
	}
	if s.opt.Explain && s.p.body[i] {
		s.opt.Output.explainCause(s.p.tasks[i].Name, s.out[i].Cause)
	}
}

// aggregateDone records the outcome of aggregate node i, whose
// dependencies have all succeeded: up to date when it has some and every
// one of them was (or was not selected), else succeeded.
func (s *runState) aggregateDone(i int32) {
	st := Succeeded
	if len(s.p.deps(i)) > 0 {
		st = UpToDate
	}
	for _, d := range s.p.deps(i) {
		if s.out[d].Status != UpToDate && s.out[d].Status != NotSelected {
			st = Succeeded
			break
		}
	}
	s.out[i].Status = st
	s.out[i].Cause = st.String()
}

// complete marks node i done with success and releases its dependents,
// completing aggregates among them in turn.
func (s *runState) complete(i int32) {
	s.state[i] = stDone
	s.work = append(s.work[:0], i)
	for len(s.work) > 0 {
		j := s.work[len(s.work)-1]
		s.work = s.work[:len(s.work)-1]
		for _, r := range s.p.rdeps(j) {
			s.pending[r]--
			if s.pending[r] != 0 || s.stopping {
				continue
			}
			if !s.opt.Select.has(r) {
				s.leaveOut(r)
				s.work = append(s.work, r)
				continue
			}
			if s.p.body[r] {
				s.state[r] = stQueued
				s.ready.push(r)
				s.tr.queued(r)
				continue
			}
			s.state[r] = stDone
			s.aggregateDone(r)
			s.work = append(s.work, r)
		}
	}
}

// blocker says what keeps node i from starting now: nothing (admitted), the
// task cap (needsSlot), or the index of the wait queue it belongs in.
func (s *runState) blocker(i int32) int32 {
	if s.full() {
		return needsSlot
	}
	if m := s.p.mutex[i]; m >= 0 {
		if s.p.shared[i] {
			if s.mutexX[m] {
				return 2*m + 1
			}
		} else if s.mutexN[m] > 0 {
			return 2 * m
		}
	}
	for _, t := range s.p.tags(i) {
		if s.tagN[t] >= s.p.tagLimit[t] {
			return s.tagBase + t
		}
	}
	return admitted
}

// open reports whether wait queue q's condition now admits its tasks.
func (s *runState) open(q int32) bool {
	if q < s.tagBase {
		m := q / 2
		if q%2 == 0 {
			return s.mutexN[m] == 0
		}
		return !s.mutexX[m]
	}
	t := q - s.tagBase
	return s.tagN[t] < s.p.tagLimit[t]
}

func (s *runState) wake(q int32) {
	wq := &s.queues[q]
	if !wq.awake && wq.heap.Len() > 0 {
		wq.awake = true
		s.awake = append(s.awake, q)
	}
}

// dispatch starts every task that can start now, lowest prio first. Each
// queued task waits in exactly one place: the ready heap (blocked at most
// by the task cap) or the wait queue of a condition that blocked it. Only
// queues whose condition changed since (awake ones) are looked at, so a
// pass costs O(started + parked) heap operations, not O(queued).
func (s *runState) dispatch() {
	for !s.stopping {
		if s.full() {
			s.tr.full()
			return
		}
		best, src := int32(-1), int32(-1)
		if s.ready.Len() > 0 {
			best = s.ready.head()
		}
		for k := 0; k < len(s.awake); {
			q := s.awake[k]
			wq := &s.queues[q]
			if wq.heap.Len() == 0 || !s.open(q) {
				wq.awake = false
				last := len(s.awake) - 1
				s.awake[k] = s.awake[last]
				s.awake = s.awake[:last]
				continue
			}
			if h := wq.heap.head(); best < 0 || s.p.prio[h] < s.p.prio[best] {
				best, src = h, q
			}
			k++
		}
		if best < 0 {
			return
		}
		if src < 0 {
			s.ready.pop()
		} else {
			s.queues[src].heap.pop()
		}
		if q := s.blocker(best); q >= 0 {
			s.queues[q].heap.push(best)
			s.tr.blocked(best, q)
		} else {
			s.start(best)
		}
	}
}

func (s *runState) start(i int32) {
	t := s.p.tasks[i]
	s.running++
	if m := s.p.mutex[i]; m >= 0 {
		s.mutexN[m]++
		if !s.p.shared[i] {
			s.mutexX[m] = true
		}
	}
	for _, tag := range s.p.tags(i) {
		s.tagN[tag]++
	}
	s.state[i] = stRunning
	now := time.Now()
	s.out[i].Ran = true
	s.out[i].Start = now
	s.tr.started(i, now)

	ctx, cancel := context.WithCancelCause(s.ctx)
	s.cancel[i] = cancel
	var stop context.CancelFunc
	if t.Timeout > 0 {
		ctx, stop = context.WithTimeoutCause(ctx, t.Timeout, &TimeoutError{Task: t.Name, Timeout: t.Timeout})
	}
	e := &execution{i: i, ctx: ctx, cancel: cancel, stop: stop, start: now, run: s}
	e.tc = TaskContext{task: t, sink: s.opt.Output.Sink(t.Name)}
	if s.opt.Store != nil && t.Inputs != nil {
		e.deps = s.p.depOutputs(i, s.outputs)
	}
	s.opt.Output.taskStarted(t.Name)
	// A body runs on a goroutine of its own: a worker that an earlier
	// body left waiting, or a new one. Reusing them saves starting a
	// goroutine and growing its stack again (a Lua body grows it) for
	// every task.
	if n := len(s.idle); n > 0 {
		w := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.waiting.Add(-1)
		w <- e
	} else {
		go s.worker(e)
	}
}

// worker runs e; then, unless maxIdle workers wait already, it waits for
// another execution on a channel of its own (which exec sends with the
// result), until the channel is closed.
func (s *runState) worker(e *execution) {
	var w chan *execution
	for e != nil {
		e.exec(&w)
		if w == nil {
			return
		}
		e = <-w // nil once closed
	}
}

// keep returns the channel on which a worker whose execution ended is to
// wait for another, *w (made if nil), or nil when maxIdle workers wait
// already, and sets *w to it. Called on the worker's goroutine.
func (s *runState) keep(w *chan *execution) chan *execution {
	if s.waiting.Add(1) > s.maxIdle {
		s.waiting.Add(-1)
		*w = nil
		return nil
	}
	if *w == nil {
		*w = make(chan *execution, 1)
	}
	return *w
}

// depOutputs returns the outputs (from outputs, by node) of node i's
// dependencies, each named by the task that produced it; an aggregate
// dependency stands for its own dependencies.
func (p *Plan) depOutputs(i int32, outputs [][]fingerprint.File) []fingerprint.DepOutput {
	var out []fingerprint.DepOutput
	p.eachBodyDep(i, func(d int32) {
		name := p.tasks[d].Name
		if outputs == nil {
			return // no task has produced outputs yet
		}
		for _, f := range outputs[d] {
			out = append(out, fingerprint.DepOutput{Task: name, Path: f.Path, Hash: f.Hash})
		}
	})
	return out
}

// eachBodyDep calls f for each dependency of node i that has a body,
// looking through aggregates (once each).
func (p *Plan) eachBodyDep(i int32, f func(d int32)) {
	var seen map[int32]bool
	var visit func(d int32)
	visit = func(d int32) {
		if p.body[d] {
			f(d)
			return
		}
		if seen == nil {
			seen = map[int32]bool{}
		}
		if !seen[d] {
			seen[d] = true
			for _, dd := range p.deps(d) {
				visit(dd)
			}
		}
	}
	for _, d := range p.deps(i) {
		visit(d)
	}
}

// finish records a body's end and releases what it held.
func (s *runState) finish(r result) {
	i := r.i
	if r.worker != nil {
		s.idle = append(s.idle, r.worker)
	}
	s.running--
	s.cancel[i] = nil
	if m := s.p.mutex[i]; m >= 0 {
		s.mutexN[m]--
		if s.mutexN[m] == 0 {
			s.mutexX[m] = false
			s.wake(2 * m)
			s.wake(2*m + 1)
		}
	}
	for _, tag := range s.p.tags(i) {
		s.tagN[tag]--
		s.wake(s.tagBase + tag)
	}
	s.state[i] = stDone
	o := &s.out[i]
	o.Duration = r.dur
	o.Tail = r.tail
	o.Reason = r.reason
	o.Ran = r.status != UpToDate && r.status != Cached
	defer func() { s.tr.ended(s, i, o.Start.Add(o.Duration), o.Status) }()
	if r.err == nil && s.opt.Store != nil {
		if s.outputs == nil && len(r.outputs) > 0 {
			s.outputs = make([][]fingerprint.File, len(s.p.tasks))
		}
		if s.outputs != nil {
			s.outputs[i] = r.outputs
		}
		r.err = s.claimOutputs(i, r.outputs)
	}
	var ff *FailFastError
	var to *TimeoutError
	var ch *ChangedError
	switch {
	case r.err == nil && r.status != NotRun:
		o.Status = r.status
	case r.err == nil:
		o.Status = Succeeded
	case errors.Is(r.err, ErrUpToDate):
		o.Status = UpToDate
	case r.cause == nil:
		o.Status = Failed
	case errors.As(r.cause, &to):
		o.Status = TimedOut
	case errors.As(r.cause, &ff):
		o.Status = Cancelled
		o.Root = ff.After
	case errors.As(r.cause, &ch):
		o.Status = Cancelled
	default:
		o.Status = Interrupted
	}
	o.Cause = o.Status.String()
	switch {
	case ch != nil && o.Status == Cancelled:
		o.Cause = ch.Error()
	case o.Status == Cancelled:
		o.Cause = fmt.Sprintf("cancelled (fail-fast after %s)", o.Root)
	}
	if !o.Status.OK() {
		o.Err = r.err
	}
	s.opt.Output.taskFinished(o.Task.Name, o.Status == Cached)
	switch o.Status {
	case Succeeded, UpToDate, Cached:
		s.complete(i)
	case Failed, TimedOut:
		s.failed(i)
	}
	if s.opt.onFinish != nil {
		s.opt.onFinish(o.Task.Name, o.Status)
	}
}

// changed cancels the running tasks that c makes out of date.
func (s *runState) changed(c Change) {
	var names []string
	for i, cancel := range s.cancel {
		if cancel != nil && c.Tasks[s.p.tasks[i].Name] {
			cancel(&ChangedError{Why: c.Why})
			names = append(names, s.p.tasks[i].Name)
		}
	}
	if len(names) > 0 && c.Cancelled != nil {
		c.Cancelled(names)
	}
}

// failed applies the policy after node i failed or timed out.
func (s *runState) failed(i int32) {
	s.root[i] = i
	if s.firstFail >= 0 {
		return
	}
	s.firstFail = i
	name := s.p.tasks[i].Name
	switch s.opt.Policy {
	case KeepGoing:
		return
	case FailFast:
		cause := &FailFastError{After: name}
		for _, c := range s.cancel {
			if c != nil {
				c(cause)
			}
		}
	}
	s.stop(fmt.Sprintf("stopped after %s failed", name))
}

func (s *runState) stop(cause string) {
	if !s.stopping {
		s.stopping = true
		s.stopCause = cause
	}
}

// full reports whether every task slot is taken.
func (s *runState) full() bool { return s.opt.Jobs > 0 && s.running >= s.opt.Jobs }

// interrupted records that Run's context was cancelled. The running
// bodies' contexts are its children, so they are cancelled already.
func (s *runState) interrupted() {
	s.interrupt = true
	s.stop("interrupted")
}

// finalize gives every task that did not finish its NotRun cause. Plan
// order is topological, so a task's dependencies are settled before it.
func (s *runState) finalize() {
	for i := range s.out {
		if s.state[i] == stDone {
			continue
		}
		if !s.opt.Select.has(int32(i)) {
			// Its dependencies are left out too: nothing could have
			// kept it from its outcome but the run's stop.
			s.leaveOut(int32(i))
			continue
		}
		o := &s.out[i]
		o.Status = NotRun
		for _, d := range s.p.deps(int32(i)) {
			if s.root[d] >= 0 {
				s.root[i] = s.root[d]
				break
			}
		}
		switch {
		case s.root[i] >= 0:
			o.Root = s.p.tasks[s.root[i]].Name
			o.Cause = fmt.Sprintf("not run (dependency %s failed)", o.Root)
		case s.stopCause != "":
			if s.firstFail >= 0 && !s.interruptedFirst() {
				o.Root = s.p.tasks[s.firstFail].Name
			}
			o.Cause = "not run (" + s.stopCause + ")"
		default:
			o.Cause = "not run"
		}
	}
}

// interruptedFirst reports whether the run stopped because of an interrupt
// rather than a failure.
func (s *runState) interruptedFirst() bool { return s.stopCause == "interrupted" }
