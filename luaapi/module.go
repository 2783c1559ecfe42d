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
	rt.noteRequires(L, pkg)

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
// Each table is made at its final size, and its keys go in in declaration
// order (functions, then values; a submodule where its first member is
// declared), which is the order pairs sees.
func newModule(L *lua.LState, rt *Runtime, name string) *lua.LTable {
	// The members under name, in declaration order: their module and key.
	type member struct {
		module, key string
		f           *Func
		v           *Value
	}
	members := make([]member, 0, len(apiFuncs)+len(apiValues))
	add := func(full string, f *Func, v *Value) {
		if !strings.HasPrefix(full, name) || len(full) <= len(name) || full[len(name)] != '.' ||
			strings.IndexByte(full, ':') >= 0 {
			return // another module's, or a method
		}
		i := strings.LastIndexByte(full, '.')
		if f != nil && valueModule(full[:i]) {
			return // the value's own table holds it (valueFuncs)
		}
		members = append(members, member{full[:i], full[i+1:], f, v})
	}
	for _, f := range apiFuncs {
		add(f.Name, f, nil)
	}
	for _, v := range apiValues {
		add(v.Name, nil, v)
	}

	// The tables, with their sizes: a module's members, and each of its
	// submodules once. mods[0] is name's.
	type module struct {
		name string
		n    int
		t    *lua.LTable
	}
	mods := append(make([]module, 0, 8), module{name: name})
	var index func(mod string) int
	index = func(mod string) int {
		for i := range mods {
			if mods[i].name == mod {
				return i
			}
		}
		// A submodule seen for the first time: a key of its parent.
		p := index(mod[:strings.LastIndexByte(mod, '.')])
		mods[p].n++
		mods = append(mods, module{name: mod})
		return len(mods) - 1
	}
	for _, m := range members {
		mods[index(m.module)].n++
	}

	// table returns mod's table, made (and set in its parent) when first
	// needed: so a submodule's key is set where its first member is.
	var table func(mod string) *lua.LTable
	table = func(mod string) *lua.LTable {
		i := index(mod)
		if mods[i].t == nil {
			t := L.CreateTable(0, mods[i].n)
			mods[i].t = t
			if i != 0 {
				dot := strings.LastIndexByte(mod, '.')
				table(mod[:dot]).RawSetString(mod[dot+1:], t)
			}
		}
		return mods[i].t
	}
	t := table(name)
	for _, m := range members {
		var v lua.LValue
		if m.f != nil {
			v = L.NewFunction(m.f.lua(rt))
		} else {
			v = m.v.value(rt, L)
		}
		table(m.module).RawSetString(m.key, v)
	}
	return t
}

// valueModule reports whether mod is a value that api.go declares
// functions under ("haz.env", for haz.env.load).
func valueModule(mod string) bool {
	for _, v := range apiValues {
		if v.Name == mod {
			return true
		}
	}
	return false
}

// valueFuncs returns the functions api.go declares under the value mod
// ("load" for "haz.env.load"), for the value's table to offer.
func valueFuncs(L *lua.LState, rt *Runtime, mod string) *lua.LTable {
	t := L.CreateTable(0, 1)
	for _, f := range apiFuncs {
		if key, ok := strings.CutPrefix(f.Name, mod+"."); ok {
			t.RawSetString(key, L.NewFunction(f.lua(rt)))
		}
	}
	return t
}

// methods returns the table of the methods api.go declares for the type
// name ("haz.process" for "haz.process:wait").
func methods(L *lua.LState, rt *Runtime, name string) *lua.LTable {
	prefix := name + ":"
	n := 0
	for _, f := range apiFuncs {
		if strings.HasPrefix(f.Name, prefix) {
			n++
		}
	}
	t := L.CreateTable(0, n)
	for _, f := range apiFuncs {
		if m, ok := strings.CutPrefix(f.Name, prefix); ok {
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
