package luaapi

import (
	"path/filepath"
	"runtime"

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

	haz := L.NewTable()
	L.SetFuncs(haz, map[string]lua.LGFunction{
		"spawn":    rt.hazSpawn,
		"run":      rt.hazRun,
		"output":   rt.hazOutput,
		"sh":       rt.hazSh,
		"pipe":     rt.hazPipe,
		"parallel": rt.hazParallel,
		"sleep":    rt.hazSleep,
		"glob":     hazGlob,
		"task":     rt.hazTask,
		"limit":    rt.hazLimit,
		"which":    hazWhich,
	})
	haz.RawSetString("fs", newFSModule(L))
	haz.RawSetString("path", newPathModule(L))
	haz.RawSetString("json", newJSONModule(L))
	haz.RawSetString("env", newEnvTable(L))
	haz.RawSetString("root", lua.LString(rt.root))
	haz.RawSetString("invocation_dir", lua.LString(rt.cfg.InvocationDir))
	haz.RawSetString("jobs", lua.LNumber(rt.cfg.Jobs))
	haz.RawSetString("os", lua.LString(runtime.GOOS))
	haz.RawSetString("arch", lua.LString(runtime.GOARCH))
	haz.RawSetString("version", lua.LString(Version))
	args := L.CreateTable(len(rt.cfg.Args), 0)
	argT := L.CreateTable(len(rt.cfg.Args), 1)
	argT.RawSetInt(0, lua.LString(rt.scriptName))
	for i, a := range rt.cfg.Args {
		args.RawSetInt(i+1, lua.LString(a))
		argT.RawSetInt(i+1, lua.LString(a))
	}
	haz.RawSetString("args", args)
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
