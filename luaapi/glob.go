package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/glob"
)

// hazGlob implements haz.glob(pattern, ...): every argument is a pattern or
// a list of patterns; the result is a sorted list of distinct matching paths
// (relative to the current directory for relative patterns). A malformed
// pattern raises. The matching is internal/glob's.
func hazGlob(L *lua.LState) int {
	const fname = "haz.glob"
	var patterns []string
	for i := 1; i <= L.GetTop(); i++ {
		if t, ok := L.Get(i).(*lua.LTable); ok {
			n, count := t.Len(), 0
			t.ForEach(func(lua.LValue, lua.LValue) { count++ })
			if count != n {
				raise(L, fname, "bad argument #%d (a list of patterns expected, got a table with other keys)", i)
			}
			for j := 1; j <= n; j++ {
				switch v := t.RawGetInt(j).(type) {
				case lua.LString:
					patterns = append(patterns, string(v))
				default:
					raise(L, fname, "bad argument #%d (element %d: string expected, got %s)", i, j, v.Type())
				}
			}
			continue
		}
		patterns = append(patterns, leafCheckString(L, i, fname))
	}
	paths, err := glob.Expand(patterns)
	if err != nil {
		raise(L, fname, "%v", err)
	}
	out := L.CreateTable(len(paths), 0)
	for i, p := range paths {
		out.RawSetInt(i+1, lua.LString(p))
	}
	L.Push(out)
	return 1
}
