package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// Limits that turn what would crash the Go runtime into Lua errors.
const (
	// maxCoroutineDepth is how many coroutine resumes may nest on one
	// thread: each nests Go calls, and the Go stack is finite.
	maxCoroutineDepth = 200
	// maxRepBytes is the largest string string.rep builds.
	maxRepBytes = 1 << 31
	// maxUnpack is the most values unpack returns (each takes a slot of
	// the registry, which is at most 1<<22).
	maxUnpack = 1 << 20
)

// guardStdlib wraps coroutine.resume, coroutine.wrap and string.rep so that
// runaway recursion through coroutines and huge repetitions raise Lua
// errors (catchable by pcall) instead of exhausting the Go stack or memory.
func (rt *Runtime) guardStdlib(L *lua.LState) {
	co, ok := L.GetGlobal("coroutine").(*lua.LTable)
	if ok {
		resume := co.RawGetString("resume")
		create := co.RawGetString("create")
		guarded := func(L *lua.LState, args []lua.LValue) []lua.LValue {
			t := threadOf(L)
			if t.coDepth >= maxCoroutineDepth {
				L.RaiseError("coroutine: more than %d nested resumes (runaway recursion?)", maxCoroutineDepth)
			}
			t.coDepth++
			defer func() { t.coDepth-- }()
			top := L.GetTop()
			L.Push(resume)
			for _, a := range args {
				L.Push(a)
			}
			L.Call(len(args), lua.MultRet)
			out := make([]lua.LValue, L.GetTop()-top)
			for i := range out {
				out[i] = L.Get(top + 1 + i)
			}
			L.SetTop(top)
			return out
		}
		co.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
			args := make([]lua.LValue, L.GetTop())
			for i := range args {
				args[i] = L.Get(i + 1)
			}
			out := guarded(L, args)
			for _, v := range out {
				L.Push(v)
			}
			return len(out)
		}))
		co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
			L.Push(create)
			L.Push(L.Get(1))
			L.Call(1, 1)
			th := L.Get(-1)
			L.Pop(1)
			L.Push(L.NewFunction(func(L *lua.LState) int {
				args := make([]lua.LValue, 0, L.GetTop()+1)
				args = append(args, th)
				for i := 1; i <= L.GetTop(); i++ {
					args = append(args, L.Get(i))
				}
				out := guarded(L, args)
				if len(out) > 0 && out[0] == lua.LFalse {
					var msg lua.LValue = lua.LNil
					if len(out) > 1 {
						msg = out[1]
					}
					L.Error(msg, 0) // as coroutine.wrap: propagate the error
				}
				for _, v := range out[1:] {
					L.Push(v)
				}
				return len(out) - 1
			}))
			return 1
		}))
	}
	if unpack, ok := L.GetGlobal("unpack").(*lua.LFunction); ok {
		L.SetGlobal("unpack", L.NewFunction(func(L *lua.LState) int {
			t := L.CheckTable(1)
			i := L.OptInt64(2, 1)
			j := L.OptInt64(3, int64(t.Len()))
			if j-i >= maxUnpack {
				L.RaiseError("unpack: too many results (%d; at most %d)", j-i+1, maxUnpack)
			}
			top := L.GetTop()
			L.Push(unpack)
			for k := 1; k <= top; k++ {
				L.Push(L.Get(k))
			}
			L.Call(top, lua.MultRet)
			return L.GetTop() - top
		}))
	}
	if str, ok := L.GetGlobal("string").(*lua.LTable); ok {
		rep := str.RawGetString("rep")
		str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
			s := L.CheckString(1)
			n := L.CheckInt64(2)
			sep := L.OptString(3, "")
			if n > 0 && (float64(len(s))+float64(len(sep)))*float64(n) > maxRepBytes {
				L.RaiseError("string.rep: the result would be larger than %d bytes", int64(maxRepBytes))
			}
			top := L.GetTop()
			L.Push(rep)
			for i := 1; i <= top; i++ {
				L.Push(L.Get(i))
			}
			L.Call(top, 1)
			return 1
		}))
	}
}
