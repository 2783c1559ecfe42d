package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Group is one process group: the processes of one Start, led by the first.
// Its methods are safe for use by many goroutines.
type Group struct {
	// Procs are the group's processes, in pipeline order; Procs[0] leads
	// the group, so its pid is the group id.
	Procs []*Process

	m     *Manager
	pgid  int
	grace time.Duration
	job   *job
	js    *jobserver // the jobserver its processes are clients of, or nil
	fg    bool
	done  chan struct{}

	mu         sync.Mutex
	live       int  // processes not yet exited
	reaped     bool // the leader is reaped: the pgid must never be signalled again
	terminated bool // SIGTERM sent by terminate
	timedOut   bool
	cancelled  bool
	killTimer  *time.Timer
	stopTimer  func() bool // stops the timeout timer
	stopCtx    func() bool // stops the context watch
	readers    []*os.File  // parent read ends being drained or copied
	io         sync.WaitGroup
	afterIO    []func() // run when the group is done (close stdin writers)
}

// ErrStartCancelled wraps the context's error when Start gave up waiting for
// a job slot or the terminal.
var ErrStartCancelled = errors.New("proc: cancelled before start")

// StartError is returned when a process could not be started (as opposed
// to one that started and failed).
type StartError struct {
	Name string
	Err  error
}

func (e *StartError) Error() string { return fmt.Sprintf("proc: start %q: %v", e.Name, e.Err) }
func (e *StartError) Unwrap() error { return e.Err }

// Start starts specs as one process group: one process, or a pipeline in
// which each stage's stdout feeds the next stage's stdin through an OS pipe
// (then only the first stage's Stdin and the last stage's Stdout are used).
// The group ends when every process has exited and what was left in the
// group is terminated; until then, cancelling ctx terminates it.
//
// Start may wait for a job slot (Options.Job) or the terminal
// (Options.Foreground); it returns an error wrapping ErrStartCancelled if
// ctx ends first. It never blocks on the children's I/O.
func (m *Manager) Start(ctx context.Context, opt Options, specs ...*Spec) (_ *Group, err error) {
	if len(specs) == 0 {
		return nil, errors.New("proc: nothing to start")
	}
	initSystem()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStartCancelled, err)
	}
	g := &Group{m: m, grace: opt.Grace, done: make(chan struct{})}
	if g.grace <= 0 {
		g.grace = m.cfg.Grace
	}

	// A job slot first: a waiting caller holds nothing else.
	if opt.JoinJob != nil && opt.JoinJob.job != nil && opt.JoinJob.job.join() {
		g.job = opt.JoinJob.job
	} else if opt.Job && opt.JoinJob == nil {
		n, err := m.slots.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrStartCancelled, err)
		}
		g.job = &job{refs: 1, slots: m.slots, n: n}
	}
	defer func() {
		if err != nil && g.job != nil {
			g.job.leave()
		}
	}()
	if opt.Foreground && m.canForeground() {
		select {
		case m.fg <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrStartCancelled, ctx.Err())
		}
		g.fg = true
		defer func() {
			if err != nil {
				<-m.fg
			}
		}()
	}

	for _, sp := range specs {
		if sp.Jobserver != JobserverOff && m.slots.n > 0 {
			// Made at the first client; a failure (said by
			// JobserverFlags) leaves the client without one.
			_, _ = m.slots.enableJobserver(m.cfg.TempDir)
			g.js = m.slots.clientStart()
			break
		}
	}
	defer func() {
		if err != nil && g.js != nil {
			g.js.clientEnd()
		}
	}()

	st := starter{awaited: opt.Awaited, js: g.js}
	defer st.closeChildEnds()
	if err := st.start(g, specs); err != nil {
		st.abort(g)
		return nil, err
	}
	g.live = len(g.Procs) // before the group is visible: TerminateAll reads it
	m.add(g)
	st.runParentSide(g)
	if opt.Timeout > 0 {
		t := time.AfterFunc(opt.Timeout, func() { g.terminate(termTimeout) })
		g.stopTimer = t.Stop
	}
	g.stopCtx = context.AfterFunc(ctx, func() { g.terminate(termCancel) })
	for _, p := range g.Procs {
		go p.watch()
	}
	return g, nil
}

// Pgid returns the process group id (the first process's pid).
func (g *Group) Pgid() int { return g.pgid }

// JobSlot returns the number of the job slot the group holds (its own, or
// the one it joined), from 1; 0 when it holds none (no Options.Job, or
// no cap on jobs).
func (g *Group) JobSlot() int {
	if g.job == nil {
		return 0
	}
	return g.job.n
}

// Done is closed when the group has ended: every process has exited, the
// rest of the process group is gone, every process is reaped, and their
// captured and copied output has reached its end.
func (g *Group) Done() <-chan struct{} { return g.done }

// Wait waits for the group to end, or for ctx to be done.
func (g *Group) Wait(ctx context.Context) error {
	select {
	case <-g.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Signal sends sig to the whole process group. It reports false, and sends
// nothing, once every process of the group has exited.
func (g *Group) Signal(sig syscall.Signal) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live == 0 || g.reaped {
		return false, nil
	}
	if err := unix.Kill(-g.pgid, sig); err != nil {
		return false, fmt.Errorf("proc: signal %s to group %d: %w", SignalName(sig), g.pgid, err)
	}
	return true, nil
}

// StageOK reports whether Procs[i] succeeded by the pipeline rule: its
// Result is OK, or it is a stage before the last that was killed by
// SIGPIPE (and not by a timeout or a cancellation): its reader finished
// first, which is how `yes | head -1` is meant to end. An exit status of
// 141, which a shell reports for its killed child, is not excused. Call it
// once Done is closed; before, it reports false.
func (g *Group) StageOK(i int) bool {
	r := g.Procs[i].Result()
	if r == nil {
		return false
	}
	if r.OK() {
		return true
	}
	return i < len(g.Procs)-1 && r.Signal == syscall.SIGPIPE && !r.TimedOut && !r.Cancelled && r.Err == nil
}

// FailedStage returns the first process that did not succeed by the
// pipeline rule (StageOK), or nil when every one did. Call it once Done is
// closed.
func (g *Group) FailedStage() *Process {
	for i, p := range g.Procs {
		if !g.StageOK(i) {
			return p
		}
	}
	return nil
}

// OK reports whether the group succeeded: every process did by the
// pipeline rule (StageOK). Call it once Done is closed; before, it reports
// false.
func (g *Group) OK() bool { return g.FailedStage() == nil }

// Terminate terminates the group as cancellation does: SIGTERM and SIGCONT
// to the group, then SIGKILL after the grace period. Its results say
// Cancelled.
func (g *Group) Terminate() { g.terminate(termCancel) }

type termReason int

const (
	termCancel termReason = iota
	termTimeout
	termStopped
	termMembers // the processes exited; what is left of the group is terminated
)

func (g *Group) terminate(why termReason) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reaped || g.pgid == 0 {
		return // kill(-0) would signal hazlua's own process group
	}
	if g.live > 0 {
		switch why {
		case termTimeout:
			g.timedOut = !g.cancelled
		case termCancel:
			g.cancelled = !g.timedOut
		}
	}
	if g.terminated {
		return
	}
	g.terminated = true
	_ = unix.Kill(-g.pgid, unix.SIGTERM)
	_ = unix.Kill(-g.pgid, unix.SIGCONT)
	g.killTimer = time.AfterFunc(g.grace, g.kill)
}

// kill sends SIGKILL to the group, unless it is already reaped.
func (g *Group) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.reaped && g.pgid != 0 {
		_ = unix.Kill(-g.pgid, unix.SIGKILL)
	}
}

// exited is called by each process's watcher when it has exited (not yet
// reaped). The last one ends the group.
func (g *Group) exited() {
	g.mu.Lock()
	g.live--
	last := g.live == 0
	g.mu.Unlock()
	if last {
		g.finish()
	}
}

// finish runs once every process of the group has exited: it terminates
// what is left of the process group, reaps, and waits for the output.
func (g *Group) finish() {
	members, orphans := hasMembers(g.pgid)
	if members {
		g.terminate(termMembers)
		for delay := time.Millisecond; members; delay = min(2*delay, 50*time.Millisecond) {
			time.Sleep(delay)
			members, _ = hasMembers(g.pgid)
		}
	}
	g.mu.Lock()
	g.reaped = true
	if g.killTimer != nil {
		g.killTimer.Stop()
	}
	g.mu.Unlock()
	if g.stopTimer != nil {
		g.stopTimer()
	}
	g.stopCtx()
	for _, p := range g.Procs {
		p.reap() // kicks the reaper if it waits behind p's zombie
	}
	if orphans {
		// Orphans (the group's terminated members among them) are
		// reaped now rather than at the reaper's next tick.
		kickReaper()
	}
	if g.fg {
		g.m.reclaimTerminal()
		<-g.m.fg
	}
	if g.js != nil {
		g.js.clientEnd() // the group is empty: the tokens it holds are lost
	}
	if g.job != nil {
		g.job.leave()
	}
	// A pipe nobody took is read into memory now: its descriptor is not
	// held for the rest of the run, and its bytes stay readable.
	for _, p := range g.Procs {
		p.DrainStdout()
	}
	g.waitIO()
	g.m.remove(g)
	close(g.done)
}

// waitIO waits for the group's output to reach its end. Every process of
// the group is gone, so only a process that left the group (a daemon) can
// still hold a pipe open: after the grace period the read ends are closed,
// and what was read so far is kept.
func (g *Group) waitIO() {
	if len(g.readers) == 0 {
		// No pipe is drained or copied (every read end Start drains is
		// in readers): nothing to wait for, and no timer to arm.
		for _, f := range g.afterIO {
			f()
		}
		return
	}
	drained := make(chan struct{})
	go func() { g.io.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(g.grace):
		g.mu.Lock()
		for _, f := range g.readers {
			f.Close()
		}
		g.mu.Unlock()
		<-drained
	}
	for _, f := range g.afterIO {
		f()
	}
}

// closeLater arranges for a read end drained after the group started to be
// closed if it is still open a grace period after the group is done.
func (g *Group) closeLater(f *os.File) {
	go func() {
		<-g.done
		time.AfterFunc(g.grace, func() { f.Close() })
	}()
}

// starter holds what one Start opens until the children are running.
type starter struct {
	awaited   bool       // Options.Awaited
	js        *jobserver // the group's jobserver, for specs that ask
	childEnds []*os.File // given to children; closed in the parent after the forks
	parentFns []func()   // goroutines to start once every process runs
	readers   []*os.File
	closers   []*os.File // parent ends to close if Start fails
}

func (st *starter) closeChildEnds() {
	for _, f := range st.childEnds {
		f.Close()
	}
	st.childEnds = nil
}

func (st *starter) start(g *Group, specs []*Spec) error {
	var prevOut *os.File // read end of the previous stage's stdout
	for i, spec := range specs {
		name := spec.Name
		if name == "" {
			name = filepath.Base(spec.Path)
		}
		p := &Process{Name: name, g: g}
		var files [3]*os.File
		var err error
		if i == 0 {
			files[0], err = st.input(g, p, spec.Stdin)
		} else {
			files[0] = prevOut
		}
		if err == nil && i == len(specs)-1 {
			files[1], err = st.output(g, p, spec.Stdout, false)
		} else if err == nil {
			var r, w *os.File
			r, w, err = os.Pipe()
			if err == nil {
				st.childEnds = append(st.childEnds, r, w)
				files[1], prevOut = w, r
			}
		}
		if err == nil {
			if spec.Stderr.Kind == OutStdout {
				files[2] = files[1]
			} else {
				files[2], err = st.output(g, p, spec.Stderr, true)
			}
		}
		if err != nil {
			return &StartError{Name: name, Err: err}
		}
		// A blocking watch holds a thread until the exit: at most
		// maxBlockingWatch at a time.
		blocking := st.awaited && blockingWatch.Add(1) <= maxBlockingWatch
		if st.awaited && !blocking {
			blockingWatch.Add(-1)
		}
		var extra []*os.File // fds 3 and up
		if spec.Jobserver != JobserverOff && st.js != nil {
			sp := *spec
			sp.Env = SetMakeflags(spec.Env, st.js.flags(spec.Jobserver))
			if spec.Jobserver == JobserverPipe {
				extra = []*os.File{st.js.childR, st.js.childW} // jobserverReadFD, jobserverWriteFD
			}
			spec = &sp
		}
		if err := fork(g, p, spec, files, extra, blocking); err != nil {
			if blocking {
				blockingWatch.Add(-1)
			}
			return &StartError{Name: name, Err: err}
		}
		g.Procs = append(g.Procs, p)
	}
	return nil
}

// abort undoes a Start that failed part way: it kills the stages already
// running and reaps them.
func (st *starter) abort(g *Group) {
	for _, f := range st.closers {
		f.Close()
	}
	if len(g.Procs) == 0 {
		return
	}
	_ = unix.Kill(-g.pgid, unix.SIGKILL)
	for _, p := range g.Procs {
		fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
		p.reap()
	}
	if g.fg {
		g.m.reclaimTerminal()
	}
}

func (st *starter) input(g *Group, p *Process, in Input) (*os.File, error) {
	switch in.Kind {
	case InNull:
		return st.devNull(os.O_RDONLY)
	case InInherit:
		return g.m.cfg.Stdin, nil
	case InFile:
		f, err := os.Open(in.Path)
		if err != nil {
			return nil, err
		}
		st.childEnds = append(st.childEnds, f)
		return f, nil
	case InReader:
		st.childEnds = append(st.childEnds, in.File)
		return in.File, nil
	case InPipe, InString:
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		st.childEnds = append(st.childEnds, r)
		st.closers = append(st.closers, w)
		if in.Kind == InPipe {
			p.stdin = w
			g.afterIO = append(g.afterIO, func() { p.CloseStdin() })
		} else {
			data := in.Data
			st.parentFns = append(st.parentFns, func() {
				go func() {
					// EPIPE when the child does not read it all: not an error.
					_, _ = io.WriteString(w, data)
					w.Close()
				}()
			})
			g.afterIO = append(g.afterIO, func() { w.Close() })
		}
		return r, nil
	}
	return nil, fmt.Errorf("unknown input kind %d", in.Kind)
}

func (st *starter) output(g *Group, p *Process, out Output, stderr bool) (*os.File, error) {
	switch out.Kind {
	case OutNull:
		return st.devNull(os.O_WRONLY)
	case OutFile:
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if out.Append {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(out.Path, flags, 0o666)
		if err != nil {
			return nil, err
		}
		st.childEnds = append(st.childEnds, f)
		return f, nil
	case OutWriter:
		if f, ok := out.W.(*os.File); ok {
			return f, nil
		}
	case OutStdout:
		return nil, errors.New("stdout cannot go to stdout")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	st.childEnds = append(st.childEnds, w)
	st.closers = append(st.closers, r)
	switch out.Kind {
	case OutPipe:
		if stderr {
			r.Close()
			return nil, errors.New("stderr cannot be a pipe")
		}
		p.stdout = r
	case OutCapture:
		c := newCapture(g.m.cfg.TempDir)
		if stderr {
			p.errCap = c
		} else {
			p.outCap = c
		}
		st.drainTo(g, r, func() { c.drain(r) })
	case OutWriter:
		w, done := out.W, out.Done
		st.drainTo(g, r, func() {
			defer r.Close()
			if done != nil {
				defer done()
			}
			// A write error (closed sink) drops the rest; keep reading so
			// the child never blocks on a full pipe.
			if _, err := io.Copy(w, r); err != nil {
				_, _ = io.Copy(io.Discard, r)
			}
		})
	default:
		return nil, fmt.Errorf("unknown output kind %d", out.Kind)
	}
	return w, nil
}

func (st *starter) drainTo(g *Group, r *os.File, f func()) {
	st.readers = append(st.readers, r)
	st.parentFns = append(st.parentFns, func() {
		g.io.Add(1)
		go func() { defer g.io.Done(); f() }()
	})
}

func (st *starter) devNull(flag int) (*os.File, error) {
	return system.devNull, system.devNullErr
}

// runParentSide starts the goroutines that feed and drain the children.
func (st *starter) runParentSide(g *Group) {
	st.closeChildEnds()
	g.readers = st.readers
	for _, f := range st.parentFns {
		f()
	}
}
