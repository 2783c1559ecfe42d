package luaapi

import (
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// newPathModule returns the haz.path table, thin wrappers over Go's
// path/filepath:
//
//	join(...) -> string          filepath.Join (no arguments: "")
//	base(path) -> string         filepath.Base
//	dir(path) -> string          filepath.Dir
//	ext(path) -> string          filepath.Ext
//	abs(path) -> string | nil, msg       filepath.Abs
//	rel(base, target) -> string | nil, msg   filepath.Rel
//
// Arguments are strings (numbers are converted); anything else raises.
func newPathModule(L *lua.LState) *lua.LTable { return newModule(L, nil, "haz.path") }

// pathJoin implements haz.path.join.
func pathJoin(L *lua.LState) int {
	n := L.GetTop()
	elems := make([]string, n)
	for i := range n {
		elems[i] = leafCheckString(L, i+1, "haz.path.join")
	}
	L.Push(lua.LString(filepath.Join(elems...)))
	return 1
}

// pathUnary wraps a string → string function of path/filepath.
func pathUnary(fname string, f func(string) string) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(lua.LString(f(leafCheckString(L, 1, fname))))
		return 1
	}
}

// pathAbs implements haz.path.abs; it fails only when the current directory
// cannot be determined.
func pathAbs(L *lua.LState) int {
	const fname = "haz.path.abs"
	p, err := filepath.Abs(leafCheckString(L, 1, fname))
	if err != nil {
		return leafFail(L, fname, err)
	}
	L.Push(lua.LString(p))
	return 1
}

// pathRel implements haz.path.rel(base, target): a path to target relative
// to base, lexically (no file system access). It fails when one is absolute
// and the other relative, or when base has ".." elements that cannot be
// resolved lexically.
func pathRel(L *lua.LState) int {
	const fname = "haz.path.rel"
	base := leafCheckString(L, 1, fname)
	target := leafCheckString(L, 2, fname)
	p, err := filepath.Rel(base, target)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(fname + ": " + strings.TrimPrefix(err.Error(), "Rel: ")))
		return 2
	}
	L.Push(lua.LString(p))
	return 1
}
