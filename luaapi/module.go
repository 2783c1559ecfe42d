package luaapi

import (
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Version is hazlua's version, set by main.
var Version = "dev"

// openLibs builds the haz module and routes the standard library's output
// and process functions (print, io.write, os.exit, os.execute, io.popen)
// through hazlua.
func (rt *Runtime) openLibs() {
	L := rt.L
	rt.newProcessMeta(L)
	rt.newPopenMeta(L)

	haz := newModule(L, rt, "haz")
	argT := L.CreateTable(len(rt.cfg.Args), 1)
	argT.RawSetInt(0, lua.LString(rt.scriptName))
	for i, a := range rt.cfg.Args {
		argT.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("haz", haz)
	L.SetGlobal("arg", argT)

	pkg := L.GetGlobal("package").(*lua.LTable)
	if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
		loaded.RawSetString("haz", haz)
	}
	path := filepath.Join(rt.root, "?.lua") + ";" + filepath.Join(rt.root, "?", "init.lua")
	if old := lua.LVAsString(pkg.RawGetString("path")); old != "" {
		path += ";" + old
	}
	pkg.RawSetString("path", lua.LString(path))

	L.SetGlobal("print", L.NewFunction(rt.luaPrint))
	L.SetGlobal("pairs", pairsWithMeta(L, L.GetGlobal("pairs")))
	if io, ok := L.GetGlobal("io").(*lua.LTable); ok {
		io.RawSetString("write", L.NewFunction(rt.luaIOWrite))
		io.RawSetString("popen", L.NewFunction(rt.luaPopen))
		rt.routeStdFiles(L, io)
	}
	if os, ok := L.GetGlobal("os").(*lua.LTable); ok {
		os.RawSetString("exit", L.NewFunction(rt.luaExit))
		os.RawSetString("execute", L.NewFunction(rt.luaExecute))
		os.RawSetString("getenv", L.NewFunction(luaOSGetenv))
	}
	rt.guardStdlib(L)
}

// newModule returns the table of the module name ("haz", "haz.fs"): the
// functions and values api.go declares under it, and its submodules. rt
// may be nil when none of them needs the run (the leaf modules' tests).
func newModule(L *lua.LState, rt *Runtime, name string) *lua.LTable {
	t := L.NewTable()
	prefix := name + "."
	// member returns the key of a member of this module, after making the
	// submodule that holds it when it is deeper; ok is false for others.
	member := func(full string) (key string, ok bool) {
		rest, ok := strings.CutPrefix(full, prefix)
		if !ok || strings.Contains(rest, ":") {
			return "", false // another module's, or a method
		}
		if sub, _, deeper := strings.Cut(rest, "."); deeper {
			if t.RawGetString(sub) == lua.LNil {
				t.RawSetString(sub, newModule(L, rt, prefix+sub))
			}
			return "", false
		}
		return rest, true
	}
	for _, f := range apiFuncs {
		if key, ok := member(f.Name); ok {
			t.RawSetString(key, L.NewFunction(f.lua(rt)))
		}
	}
	for _, v := range apiValues {
		if key, ok := member(v.Name); ok {
			t.RawSetString(key, v.value(rt, L))
		}
	}
	return t
}

// methods returns the table of the methods api.go declares for the type
// name ("haz.process" for "haz.process:wait").
func methods(L *lua.LState, rt *Runtime, name string) *lua.LTable {
	t := L.NewTable()
	for _, f := range apiFuncs {
		if m, ok := strings.CutPrefix(f.Name, name+":"); ok {
			t.RawSetString(m, L.NewFunction(f.lua(rt)))
		}
	}
	return t
}

// lua returns f's Go function for the run rt.
func (f *Func) lua(rt *Runtime) lua.LGFunction {
	if f.fn != nil {
		return f.fn
	}
	if rt == nil {
		panic("luaapi: " + f.Name + " needs a Runtime")
	}
	fn := f.rtFn
	return func(L *lua.LState) int { return fn(rt, L) }
}

// pairsWithMeta returns a pairs that honours a __pairs metamethod (as Lua
// 5.2+ does; gopher-lua's does not), so pairs(haz.env) iterates the
// environment.
func pairsWithMeta(L *lua.LState, orig lua.LValue) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		f := L.GetMetaField(L.Get(1), "__pairs")
		if f == lua.LNil {
			f = orig
		}
		L.Push(f)
		L.Push(L.Get(1))
		L.Call(1, 3)
		return 3
	})
}
