package luaapi

import (
	"context"
	"io"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/runner"
)

// The threading model. Lua runs on one goroutine at a time: whoever runs
// Lua code holds Runtime.lua. The top level, each task body and each
// haz.parallel branch runs on its own Lua thread (an *lua.LState made with
// NewThread) on its own goroutine. A binding that waits releases the lock
// around the wait (Runtime.block) and touches no Lua value meanwhile, so
// the other threads run; waiting this way works inside pcall, iterators and
// metamethods, where a coroutine yield from Go would not.

// thread is what hazlua knows about one Lua thread. It travels in the
// thread's context (L.Context()), which also cancels it: gopher-lua checks
// the context at every instruction, and waiting bindings watch Done.
type thread struct {
	// jobs: spawns from this thread take a job slot (task bodies and
	// haz.parallel branches; not the top level).
	jobs bool
	// task is the name of the task whose body runs on the thread (or on
	// whose haz.parallel branch); "" at the top level. For --trace.
	task string
	// sink is the task's output sink; nil at the top level, where output
	// is raw. Each process inheriting stdout or stderr gets a writer of
	// its own from it, so lines of concurrent processes never mix.
	sink *runner.Sink
	// stdout and stderr are where print, io.write and t:log go.
	stdout, stderr io.Writer
	// outMu serialises print and io.write of threads sharing a sink.
	outMu *sync.Mutex
	// out is a task thread's outMu, which its haz.parallel branches share.
	out sync.Mutex
	// coDepth counts the coroutine resumes nested on this thread (each
	// one nests Go calls too), under the Lua lock.
	coDepth int
}

type threadKey struct{}

// threadOf returns the hazlua state of the Lua thread L.
func threadOf(L *lua.LState) *thread {
	if ctx := L.Context(); ctx != nil {
		if t, ok := ctx.Value(threadKey{}).(*thread); ok {
			return t
		}
	}
	return &thread{}
}

// withThread returns ctx carrying t.
func withThread(ctx context.Context, t *thread) context.Context {
	return context.WithValue(ctx, threadKey{}, t)
}

// lock takes the Lua lock for thread L.
func (rt *Runtime) lock() { rt.lua.Lock() }

// unlock releases the Lua lock.
func (rt *Runtime) unlock() { rt.lua.Unlock() }

// block runs wait with the Lua lock released, so other Lua threads run
// meanwhile, and takes the lock back before returning. wait must not touch
// any Lua value. It gets L's context, which is done when L is cancelled.
func (rt *Runtime) block(L *lua.LState, wait func(ctx context.Context)) {
	cur := L.G.CurrentThread
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rt.unlock()
	defer func() {
		rt.lock()
		L.G.CurrentThread = cur
	}()
	wait(ctx)
}

// newThread returns a Lua thread for a task body or a haz.parallel
// branch, with its own cancellable context under parent: a finished one
// from the pool (see release), or a new one. The caller holds the Lua lock.
func (rt *Runtime) newThread(L *lua.LState, parent context.Context, t *thread) (*lua.LState, context.CancelFunc) {
	th := rt.idleThread(L)
	ctx, cancel := context.WithCancel(withThread(parent, t))
	th.SetContext(ctx)
	return th, cancel
}

// taskThread returns a Lua thread for a task body whose context is the
// task's, with t in it. The runner cancels the task's context as soon as
// the body returns (runner.ErrTaskEnded), which ends what the body left
// running, so the thread needs no cancellation of its own. The caller
// holds the Lua lock.
func (rt *Runtime) taskThread(ctx context.Context, t *thread) *lua.LState {
	th := rt.idleThread(rt.L)
	th.SetContext(withThread(ctx, t))
	return th
}

// idleThread returns a finished thread from the pool, or a new thread of
// L without a context. The caller holds the Lua lock.
func (rt *Runtime) idleThread(L *lua.LState) *lua.LState {
	if n := len(rt.idle); n > 0 {
		th := rt.idle[n-1]
		rt.idle = rt.idle[:n-1]
		return th
	}
	th, unused := L.NewThread()
	if unused != nil {
		unused() // drop the context gopher-lua made; ours replaces it
	}
	return th
}

// release returns a thread whose function returned normally to the pool,
// so 10,000 tasks cost a handful of Lua threads, not 10,000. The caller
// holds the Lua lock.
func (rt *Runtime) release(th *lua.LState) {
	th.SetTop(0)
	th.RemoveContext()
	rt.idle = append(rt.idle, th)
}

// call runs fn on thread th with the Lua lock held (the caller holds
// it), protected: a Lua error comes back as *lua.ApiError.
func call(th *lua.LState, fn *lua.LFunction, nret int, args ...lua.LValue) ([]lua.LValue, error) {
	top := th.GetTop()
	err := th.CallByParam(lua.P{Fn: fn, NRet: nret, Protect: true}, args...)
	if err != nil {
		th.SetTop(top)
		return nil, err
	}
	n := th.GetTop() - top
	rets := make([]lua.LValue, n)
	for i := range rets {
		rets[i] = th.Get(top + 1 + i)
	}
	th.SetTop(top)
	return rets, nil
}
