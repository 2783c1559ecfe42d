package luaapi

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/go-envparse"
	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/proc"
)

// newEnvTable returns haz.env, an empty table whose metatable reads and
// writes hazlua's own process environment (which children inherit and
// os.getenv reads):
//
//	haz.env.NAME            -> string, or nil when unset ("" when set empty)
//	haz.env.NAME = v        v a string or number: os.Setenv; nil or false: os.Unsetenv
//	haz.env()               -> a new table NAME -> value, a snapshot
//	pairs(haz.env)          iterate a snapshot (hazlua's pairs honours __pairs)
//	haz.env.load(path)      the functions api.go declares under haz.env
//
// A name that is not a string, is
// empty, or contains "=" or NUL raises, as does a value that is not a
// string, number, nil or false, or contains NUL.
//
// A function's name ("load") shadows the variable of that name, which
// os.getenv and haz.env() still read.
//
// The environment is process-wide: every Lua thread sees the same one.
func newEnvTable(L *lua.LState, rt *Runtime) *lua.LTable {
	t := L.CreateTable(0, 0) // always empty: the metatable does the work
	funcs := valueFuncs(L, rt, "haz.env")
	mt := L.CreateTable(0, 5)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		if f := funcs.RawGet(L.Get(2)); f != lua.LNil {
			L.Push(f)
			return 1
		}
		return envIndex(L)
	}))
	mt.RawSetString("__newindex", L.NewFunction(envNewIndex))
	mt.RawSetString("__call", L.NewFunction(envSnapshotLua))
	mt.RawSetString("__pairs", L.NewFunction(envPairs))
	mt.RawSetString("__metatable", lua.LString("haz.env"))
	L.SetMetatable(t, mt)
	return t
}

// envName checks the key argument (2) of an __index/__newindex call.
func envName(L *lua.LState) string {
	k, ok := L.Get(2).(lua.LString)
	if !ok {
		raise(L, "haz.env", "variable name must be a string, got %s", L.Get(2).Type())
	}
	name := string(k)
	if name == "" || strings.ContainsAny(name, "=\x00") {
		raise(L, "haz.env", "invalid variable name %q", name)
	}
	return name
}

// envIndex implements haz.env.NAME.
func envIndex(L *lua.LState) int {
	name := envName(L)
	if v, ok := os.LookupEnv(name); ok {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// envNewIndex implements haz.env.NAME = value.
func envNewIndex(L *lua.LState) int {
	name := envName(L)
	var err error
	switch v := L.Get(3).(type) {
	case *lua.LNilType:
		err = os.Unsetenv(name)
	case lua.LBool:
		if v {
			raise(L, "haz.env", "value for %q must be a string or a number (nil or false unsets), got true", name)
		}
		err = os.Unsetenv(name)
	case lua.LString, lua.LNumber:
		s := v.String()
		if strings.IndexByte(s, 0) >= 0 {
			raise(L, "haz.env", "value for %q contains a NUL byte", name)
		}
		err = os.Setenv(name, s)
	default:
		raise(L, "haz.env", "value for %q must be a string or a number (nil or false unsets), got %s", name, v.Type())
	}
	if err != nil {
		raise(L, "haz.env", "set %q: %v", name, err)
	}
	return 0
}

// envSnapshot returns the environment as a new Lua table.
func envSnapshot(L *lua.LState) *lua.LTable {
	env := os.Environ()
	t := L.CreateTable(0, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			t.RawSetString(k, lua.LString(v))
		}
	}
	return t
}

// envSnapshotLua implements haz.env() (the __call metamethod).
func envSnapshotLua(L *lua.LState) int {
	L.Push(envSnapshot(L))
	return 1
}

// envPairs is haz.env's __pairs: next over a snapshot.
func envPairs(L *lua.LState) int {
	L.Push(L.NewFunction(envNext))
	L.Push(envSnapshot(L))
	L.Push(lua.LNil)
	return 3
}

// envNext is next() for the snapshot table envPairs returns.
func envNext(L *lua.LState) int {
	t := L.CheckTable(1)
	k, v := t.Next(L.Get(2))
	if k == lua.LNil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(k)
	L.Push(v)
	return 2
}

// luaOSGetenv is a replacement for gopher-lua's os.getenv, which returns nil
// for a variable that is set to the empty string (standard Lua returns "").
// It agrees with haz.env exactly; hazlua installs it as os.getenv.
func luaOSGetenv(L *lua.LState) int {
	if v, ok := os.LookupEnv(leafCheckString(L, 1, "os.getenv")); ok {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// hazWhich implements haz.which(name): the absolute path of the executable
// haz.spawn would run for name with the current PATH (haz.env.PATH), or nil:
// the same lookup, proc.LookPath. A name containing "/" is checked as a
// path, relative to the current directory. A match in a relative or empty
// PATH entry, which haz.spawn refuses (proc.DotError), is nil too.
func hazWhich(L *lua.LState) int {
	name := leafCheckString(L, 1, "haz.which")
	p, err := proc.LookPath(name, os.Getenv("PATH"), "")
	if err != nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(p))
	return 1
}

// envLoad implements haz.env.load(path [, opts]): the variables of a
// dotenv file (go-envparse's syntax: NAME=value, export NAME=value, quoted
// values with escapes, # comments; no ${...} expansion) set in hazlua's
// environment. A variable already set keeps its value unless opts.override.
// It returns the table of the file's variables; nil and a message when the
// file cannot be read; and raises, naming the file's line, when the file
// is not valid.
func envLoad(L *lua.LState) int {
	const fname = "haz.env.load"
	path := leafCheckString(L, 1, fname)
	override := leafOptions(L, 2, fname, envLoadOptions).boolean("override")
	b, err := os.ReadFile(path)
	if err != nil {
		return leafFail(L, fname, err)
	}
	vars, err := envparse.Parse(bytes.NewReader(b))
	if err != nil {
		var pe *envparse.ParseError
		if errors.As(err, &pe) && pe.Line > 0 {
			raise(L, fname, "%s:%d: %v", path, pe.Line, pe.Err)
		}
		raise(L, fname, "%s: %v", path, err)
	}
	t := L.CreateTable(0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		v := vars[k]
		if strings.IndexByte(v, 0) >= 0 {
			raise(L, fname, "%s: the value of %s contains a NUL byte", path, k)
		}
		t.RawSetString(k, lua.LString(v))
		if _, set := os.LookupEnv(k); set && !override {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			raise(L, fname, "%s: set %s: %v", path, k, err)
		}
	}
	L.Push(t)
	return 1
}
