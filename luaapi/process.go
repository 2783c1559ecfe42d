package luaapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/proc"
)

// processTypeName is the metatable name of a process handle.
const processTypeName = "haz.process"

// process is the Go side of a haz.spawn or haz.pipe handle. Every field is
// used with the Lua lock held.
type process struct {
	rt      *Runtime
	g       *proc.Group
	stages  []*stage
	outKind string // the last stage's stdout kind
	isPipe  bool   // made by haz.pipe (even of one stage)

	result      *lua.LTable // cached by the first complete :wait()
	stdoutStr   lua.LValue  // cached by :stdout()
	stdinClosed bool
	lines       *stdoutReader // the stdout pipe a :lines() iterator took, until its end
	fedStdin    bool          // the drained "pipe" stdout was given to another process
}

func (p *process) pipeline() bool { return p.isPipe }

// drained reports whether the "pipe" stdout was read into memory before
// anyone took it (by a wait, or when the process ended) and was not given
// to another process.
func (p *process) drained() bool {
	return p.outKind == "pipe" && !p.fedStdin && p.last().StdoutCapture() != nil
}
func (p *process) last() *proc.Process  { return p.g.Procs[len(p.g.Procs)-1] }
func (p *process) first() *proc.Process { return p.g.Procs[0] }

func (p *process) done() bool {
	select {
	case <-p.g.Done():
		return true
	default:
		return false
	}
}

// describe is tostring(p): haz.process(pid=123, cc, running).
func (p *process) describe() string {
	state := "running"
	if p.done() {
		r := p.last().Result()
		switch {
		case r.TimedOut:
			state = "timed out"
		case r.Cancelled:
			state = "cancelled"
		case r.Signal != 0:
			state = "killed by " + proc.SignalName(r.Signal)
		default:
			state = fmt.Sprintf("exited %d", r.Code)
		}
	}
	if p.pipeline() {
		pids := make([]string, len(p.g.Procs))
		names := make([]string, len(p.g.Procs))
		for i, pp := range p.g.Procs {
			pids[i] = fmt.Sprint(pp.Pid)
			names[i] = pp.Name
		}
		return fmt.Sprintf("haz.pipe(pids=%s, %s, %s)", strings.Join(pids, ","), strings.Join(names, " | "), state)
	}
	return fmt.Sprintf("haz.process(pid=%d, %s, %s)", p.first().Pid, p.first().Name, state)
}

// newProcessMeta registers the metatable of process handles.
func (rt *Runtime) newProcessMeta(L *lua.LState) {
	mt := L.NewTypeMetatable(processTypeName)
	// p.x looks in the method table, whose own __index raises for a
	// method that does not exist.
	mtab := methods(L, rt, processTypeName)
	missing := L.NewTable()
	L.SetField(missing, "__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s has no method %q", processTypeName, L.CheckString(2))
		return 0
	}))
	L.SetMetatable(mtab, missing)
	L.SetField(mt, "__index", mtab)
	L.SetField(mt, "__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s cannot be assigned to (key %q)", processTypeName, L.Get(2).String())
		return 0
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkProcess(L, 1, "tostring").describe()))
		return 1
	}))
	L.SetField(mt, "__metatable", lua.LString(processTypeName))
}

func (rt *Runtime) newProcessValue(L *lua.LState, p *process) lua.LValue {
	ud := L.NewUserData()
	ud.Value = p
	L.SetMetatable(ud, L.GetTypeMetatable(processTypeName))
	return ud
}

// checkProcess returns the process handle at argument n (the receiver of
// p:method()), raising for anything else.
func checkProcess(L *lua.LState, n int, method string) *process {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if p, ok := ud.Value.(*process); ok {
			return p
		}
	}
	L.RaiseError("%s:%s: expected a process (call it as p:%s(...)), got a %s", processTypeName, method, method, typeName(L.Get(n)))
	return nil
}

func (rt *Runtime) pPid(L *lua.LState) int {
	p := checkProcess(L, 1, "pid")
	L.Push(lua.LNumber(p.first().Pid))
	return 1
}

func (rt *Runtime) pPids(L *lua.LState) int {
	p := checkProcess(L, 1, "pids")
	t := L.CreateTable(len(p.g.Procs), 0)
	for _, pp := range p.g.Procs {
		t.Append(lua.LNumber(pp.Pid))
	}
	L.Push(t)
	return 1
}

func (rt *Runtime) pSignal(L *lua.LState) int {
	p := checkProcess(L, 1, "signal")
	const fname = "haz.process:signal"
	var sig syscall.Signal
	switch v := L.Get(2).(type) {
	case lua.LString:
		s, ok := proc.ParseSignal(string(v))
		if !ok {
			raise(L, fname, "unknown signal %q (try \"term\", \"int\", \"kill\", \"hup\", \"quit\", \"usr1\", \"usr2\", \"stop\", \"cont\" or a number)", string(v))
		}
		sig = s
	case lua.LNumber:
		if float64(v) != float64(int(v)) || v < 0 || v > 64 {
			raise(L, fname, "signal number %v is not valid", v)
		}
		sig = syscall.Signal(int(v))
	default:
		raise(L, fname, "signal must be a name or a number, not a %s", typeName(L.Get(2)))
	}
	sent, err := p.g.Signal(sig)
	if err != nil {
		raise(L, fname, "%v", err)
	}
	L.Push(lua.LBool(sent))
	return 1
}

// wait waits for p to end and its output to be complete, with the Lua lock
// released, for at most timeout (0: no limit). It reports false on timeout,
// and raises when the calling thread is cancelled.
func (p *process) wait(L *lua.LState, fname string, timeout time.Duration) bool {
	var drained *proc.Capture
	var kept <-chan struct{}
	if p.outKind == "pipe" {
		// Nobody reads an untaken pipe any more: drain it, so the child
		// never blocks on a full pipe and its output is kept.
		drained = p.last().DrainStdout()
		if r := p.lines; r != nil && timeout == 0 {
			// A :lines() iterator has not reached the end (a loop left
			// with break, or an iterator kept for later), and this waits
			// for the end: the rest of its pipe goes to memory, where the
			// iterator finds it, or the child would block on the full
			// pipe forever. (A wait with a timeout cannot hang and leaves
			// the pipe to the iterator.)
			p.lines = nil
			kept = r.keep(p.last())
		}
	}
	if p.done() && (drained == nil || drained.Finished()) && isClosed(kept) {
		return true
	}
	var cancelled, timedOut bool
	p.rt.block(L, func(ctx context.Context) {
		var timer <-chan time.Time
		if timeout > 0 {
			t := time.NewTimer(timeout)
			defer t.Stop()
			timer = t.C
		}
		for _, ch := range []<-chan struct{}{p.g.Done(), captureDone(drained), kept} {
			if ch == nil {
				continue
			}
			select {
			case <-ch:
			case <-ctx.Done():
				cancelled = true
				return
			case <-timer:
				timedOut = true
				return
			}
		}
	})
	if cancelled {
		raise(L, fname, "cancelled while waiting for %s", p.describe())
	}
	return !timedOut
}

// captureDone is c's Done channel, or nil for no capture.
func captureDone(c *proc.Capture) <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.Done()
}

// isClosed reports whether ch is nil or closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return ch == nil
	}
}

func (rt *Runtime) pWait(L *lua.LState) int {
	p := checkProcess(L, 1, "wait")
	const fname = "haz.process:wait"
	var timeout time.Duration
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		timeout = checkDuration(L, 2, fname)
	}
	if !p.wait(L, fname, timeout) {
		L.Push(lua.LNil)
		L.Push(lua.LString("timeout"))
		return 2
	}
	L.Push(p.resultTable(L))
	return 1
}

// resultTable builds (once) the result table of an ended process.
func (p *process) resultTable(L *lua.LState) *lua.LTable {
	if p.result != nil {
		return p.result
	}
	results := make([]*lua.LTable, len(p.g.Procs))
	for i, pp := range p.g.Procs {
		results[i] = p.stageResult(L, i, pp, pp.Result())
	}
	last := results[len(results)-1]
	if p.pipeline() {
		t := L.NewTable()
		last.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
		list := L.CreateTable(len(results), 0)
		for _, r := range results {
			list.Append(r)
		}
		t.RawSetString("results", list)
		t.RawSetString("ok", lua.LBool(p.g.OK())) // a stage killed by SIGPIPE is ok
		last = t
	}
	p.result = last
	return last
}

func (p *process) stageResult(L *lua.LState, i int, pp *proc.Process, r *proc.Result) *lua.LTable {
	t := L.CreateTable(0, 12)
	t.RawSetString("ok", lua.LBool(r.OK()))
	if r.Signal == 0 {
		t.RawSetString("code", lua.LNumber(r.Code))
	} else {
		t.RawSetString("signal", lua.LString(proc.SignalName(r.Signal)))
	}
	t.RawSetString("timed_out", lua.LBool(r.TimedOut))
	t.RawSetString("cancelled", lua.LBool(r.Cancelled))
	t.RawSetString("duration", lua.LNumber(r.Duration.Seconds()))
	t.RawSetString("pid", lua.LNumber(r.Pid))
	t.RawSetString("name", lua.LString(r.Name))
	if r.Err != nil {
		t.RawSetString("error", lua.LString(r.Err.Error()))
	}
	if c := pp.StdoutCapture(); c != nil {
		if b, err := c.Bytes(); err == nil {
			t.RawSetString("stdout", bytesToLua(b))
		}
	}
	if c := pp.StderrCapture(); c != nil {
		if b, err := c.Bytes(); err == nil {
			t.RawSetString("stderr", bytesToLua(b))
		}
	}
	return t
}

// bytesToLua makes a Lua string of b without copying: b is a capture's
// final buffer, never written again.
func bytesToLua(b []byte) lua.LString {
	if len(b) == 0 {
		return ""
	}
	return lua.LString(unsafe.String(&b[0], len(b)))
}

func (rt *Runtime) pStdout(L *lua.LState) int {
	p := checkProcess(L, 1, "stdout")
	const fname = "haz.process:stdout"
	if p.stdoutStr != nil {
		L.Push(p.stdoutStr)
		return 1
	}
	var pipe *os.File
	if p.outKind == "pipe" && p.last().StdoutCapture() == nil {
		var err error
		// It may be drained at its end meanwhile: then read the capture.
		if pipe, err = p.last().TakeStdout(); err != nil && p.last().StdoutCapture() == nil {
			raise(L, fname, "the stdout pipe of %s is already taken (by :lines() or another process's stdin)", p.describe())
		}
	}
	switch {
	case p.outKind == "capture" || (p.outKind == "pipe" && pipe == nil):
		p.wait(L, fname, 0)
		b, err := p.last().StdoutCapture().Bytes()
		if err != nil {
			raise(L, fname, "%v", err)
		}
		p.stdoutStr = bytesToLua(b)
	case p.outKind == "pipe":
		src := &stdoutReader{pipe: pipe}
		var data []byte
		var rerr error
		rt.block(L, func(ctx context.Context) {
			defer src.close()
			src.ctx = ctx
			data, rerr = io.ReadAll(src)
		})
		if isCancel(rerr) {
			raise(L, fname, "cancelled while reading the stdout of %s", p.describe())
		}
		if rerr != nil {
			raise(L, fname, "reading the stdout of %s: %v", p.describe(), rerr)
		}
		p.stdoutStr = bytesToLua(data)
	default:
		raise(L, fname, "stdout of %s is %q; only \"capture\" or \"pipe\" can be read", p.describe(), p.outKind)
	}
	L.Push(p.stdoutStr)
	return 1
}

func (rt *Runtime) pStderr(L *lua.LState) int {
	p := checkProcess(L, 1, "stderr")
	const fname = "haz.process:stderr"
	lastStage := p.stages[len(p.stages)-1]
	if lastStage.errKind != "capture" {
		raise(L, fname, "stderr of %s is %q; only \"capture\" can be read", p.describe(), lastStage.errKind)
	}
	p.wait(L, fname, 0)
	b, err := p.last().StderrCapture().Bytes()
	if err != nil {
		raise(L, fname, "%v", err)
	}
	L.Push(bytesToLua(b))
	return 1
}

// stdoutReader reads a process's stdout for :lines(), :stdout() and
// io.popen: the pipe the caller took (proc.ReadContext), or a capture as it
// grows. Each Read gives up when ctx, which the reading thread sets before
// it reads, is done. Reads are serialized by the caller (one reading thread
// at a time); keep and close may come from other threads.
type stdoutReader struct {
	ctx  context.Context
	pipe *os.File // the taken pipe, or nil for a capture; set once

	mu   sync.Mutex          // held while the pipe is read, and while keep hands it over
	rest *proc.CaptureReader // a capture from the start, or the rest of the pipe once kept
}

func (r *stdoutReader) Read(b []byte) (int, error) {
	r.mu.Lock()
	if r.rest == nil {
		defer r.mu.Unlock()
		return proc.ReadContext(r.ctx, r.pipe, b)
	}
	rest := r.rest
	r.mu.Unlock()
	return rest.ReadContext(r.ctx, b)
}

// keep hands the unread rest of the pipe to a capture of pr's
// (proc.Process.KeepStdout), from which the next reads continue, and
// returns the capture's Done channel. When a read of the pipe is in
// progress on another thread, the hand-over waits for it on a goroutine of
// its own, and keep returns nil: that reader is still draining the pipe.
func (r *stdoutReader) keep(pr *proc.Process) <-chan struct{} {
	hand := func() <-chan struct{} {
		if r.pipe == nil || r.rest != nil {
			return nil
		}
		c := pr.KeepStdout(r.pipe)
		r.rest = c.NewReader()
		return c.Done()
	}
	if r.mu.TryLock() {
		defer r.mu.Unlock()
		return hand()
	}
	go func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		hand()
	}()
	return nil
}

// close closes the pipe, if the reader has one; a read in progress returns
// os.ErrClosed. It is for a reader that is done: the child then gets
// SIGPIPE on its next write.
func (r *stdoutReader) close() {
	if r.pipe != nil {
		r.pipe.Close()
	}
}

// isCancel reports whether err is the calling thread's cancellation.
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (rt *Runtime) pLines(L *lua.LState) int {
	p := checkProcess(L, 1, "lines")
	const fname = "haz.process:lines"
	var src *stdoutReader
	switch {
	case p.outKind == "capture":
		src = &stdoutReader{rest: p.last().StdoutCapture().NewReader()}
	case p.outKind == "pipe":
		f, err := p.last().TakeStdout()
		if err != nil {
			if c := p.last().StdoutCapture(); c != nil {
				// Read into memory by a wait or at the process's end.
				src = &stdoutReader{rest: c.NewReader()}
				break
			}
			raise(L, fname, "the stdout pipe of %s is already taken (by :lines() or another process's stdin)", p.describe())
		}
		src = &stdoutReader{pipe: f}
		p.lines = src
	default:
		raise(L, fname, "stdout of %s is %q; only \"capture\" or \"pipe\" can be read", p.describe(), p.outKind)
	}
	L.Push(rt.linesIterator(L, fname, src, func() {
		if p.lines == src {
			p.lines = nil
		}
		src.close()
	}))
	return 1
}

// linesIterator returns a Lua iterator over the lines of src: each call
// returns the next line without "\n" ("\r" kept), a final unterminated
// line too, then nil at the end (and calls done once). A call while
// another thread's call of the same iterator waits for its line raises.
func (rt *Runtime) linesIterator(L *lua.LState, fname string, src *stdoutReader, done func()) *lua.LFunction {
	br := bufio.NewReaderSize(src, 64<<10)
	finished, busy := false, false
	return L.NewFunction(func(L *lua.LState) int {
		if finished {
			L.Push(lua.LNil)
			return 1
		}
		if busy {
			raise(L, fname, "the iterator is already waiting for a line in another thread")
		}
		var line []byte
		var err error
		busy = true
		rt.block(L, func(ctx context.Context) {
			src.ctx = ctx
			line, err = br.ReadBytes('\n')
		})
		busy = false
		if err != nil && err != io.EOF {
			finished = true
			done()
			if isCancel(err) {
				raise(L, fname, "cancelled while reading lines")
			}
			raise(L, fname, "%v", err)
		}
		if err == io.EOF {
			finished = true
			done()
			if len(line) == 0 {
				L.Push(lua.LNil)
				return 1
			}
		} else {
			line = line[:len(line)-1]
		}
		L.Push(lua.LString(line))
		return 1
	})
}

func (rt *Runtime) pWrite(L *lua.LState) int {
	p := checkProcess(L, 1, "write")
	const fname = "haz.process:write"
	data := L.CheckString(2)
	w := p.first().Stdin()
	if w == nil {
		raise(L, fname, "stdin of %s is not a pipe (spawn it with stdin = \"pipe\")", p.describe())
	}
	if p.stdinClosed {
		raise(L, fname, "stdin of %s is closed", p.describe())
	}
	var err error
	rt.block(L, func(ctx context.Context) { _, err = proc.WriteStringContext(ctx, w, data) })
	if err != nil {
		if isCancel(err) {
			raise(L, fname, "cancelled while writing")
		}
		if errors.Is(err, syscall.EPIPE) {
			L.Push(lua.LNil)
			L.Push(lua.LString("broken pipe: " + p.describe() + " stopped reading its stdin"))
			return 2
		}
		if errors.Is(err, os.ErrClosed) {
			// Not closed by the script: the process ended, and its stdin
			// with it.
			L.Push(lua.LNil)
			L.Push(lua.LString("broken pipe: " + p.describe() + " has ended"))
			return 2
		}
		raise(L, fname, "%v", err)
	}
	L.Push(lua.LTrue)
	return 1
}

func (rt *Runtime) pClose(L *lua.LState) int {
	p := checkProcess(L, 1, "close")
	const fname = "haz.process:close"
	if p.first().Stdin() == nil {
		raise(L, fname, "stdin of %s is not a pipe (spawn it with stdin = \"pipe\")", p.describe())
	}
	if p.stdinClosed {
		raise(L, fname, "stdin of %s is already closed", p.describe())
	}
	p.stdinClosed = true
	p.first().CloseStdin()
	L.Push(lua.LTrue)
	return 1
}
