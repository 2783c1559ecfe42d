package luaapi

import (
	"context"
	"errors"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// hazParallel is haz.parallel(f1, f2, ...) or haz.parallel{f1, f2, ...}:
// each function runs on its own Lua thread; the caller waits, holding no
// slot, and gets the first value of each, in order, as its results. When one raises, the
// others are cancelled (their processes terminated) and, once all have
// stopped, the first error in time is raised.
func (rt *Runtime) hazParallel(L *lua.LState) int {
	const fname = "haz.parallel"
	var fns []*lua.LFunction
	if t, ok := L.Get(1).(*lua.LTable); ok && L.GetTop() == 1 {
		plainList.checkKeys(newSite(L, fname), t)
		n := t.Len()
		for i := 1; i <= n; i++ {
			f, ok := t.RawGetInt(i).(*lua.LFunction)
			if !ok {
				raise(L, fname, "item %d must be a function, not a %s", i, typeName(t.RawGetInt(i)))
			}
			fns = append(fns, f)
		}
	} else {
		for i := 1; i <= L.GetTop(); i++ {
			f, ok := L.Get(i).(*lua.LFunction)
			if !ok {
				raise(L, fname, "argument #%d must be a function, not a %s", i, typeName(L.Get(i)))
			}
			fns = append(fns, f)
		}
	}
	if len(fns) == 0 {
		return 0
	}

	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	group, cancelGroup := context.WithCancel(parent)
	defer cancelGroup()
	own := threadOf(L)
	type outcome struct {
		i   int
		val lua.LValue
		err error
	}
	results := make(chan outcome, len(fns))
	for i, fn := range fns {
		t := &thread{jobs: true, task: own.task, sink: own.sink, stdout: own.stdout, stderr: own.stderr, outMu: own.outMu}
		th, _ := rt.newThread(L, group, t)
		go func() {
			rt.lock()
			th.G.CurrentThread = th
			rets, err := call(th, fn, 1)
			if err == nil {
				rt.release(th)
			}
			rt.unlock()
			var v lua.LValue = lua.LNil
			if len(rets) > 0 {
				v = rets[0]
			}
			results <- outcome{i, v, err}
		}()
	}
	vals := make([]lua.LValue, len(fns))
	var firstErr error
	rt.block(L, func(ctx context.Context) {
		for range fns {
			o := <-results
			vals[o.i] = o.val
			if o.err != nil && firstErr == nil {
				firstErr = o.err
				cancelGroup()
			}
		}
	})
	if firstErr != nil {
		var ae *lua.ApiError
		if errors.As(firstErr, &ae) {
			if ctxErr(L) {
				raise(L, fname, "cancelled")
			}
			L.Error(ae.Object, 0)
		}
		raise(L, fname, "%v", firstErr)
	}
	if ctxErr(L) {
		raise(L, fname, "cancelled")
	}
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// ctxErr reports whether L's thread is cancelled.
func ctxErr(L *lua.LState) bool {
	ctx := L.Context()
	return ctx != nil && ctx.Err() != nil
}

// hazSleep is haz.sleep(duration): it blocks the calling thread only.
func (rt *Runtime) hazSleep(L *lua.LState) int {
	const fname = "haz.sleep"
	d := checkDuration(L, 1, fname)
	cancelled := false
	rt.block(L, func(ctx context.Context) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			cancelled = true
		}
	})
	if cancelled {
		raise(L, fname, "cancelled")
	}
	return 0
}
