package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// hashFile implements haz.hash.file: the content hash of a file, as the
// fingerprints hold it; nil and a message when it cannot be read.
func hashFile(L *lua.LState) int {
	const fname = "haz.hash.file"
	sum, err := fingerprint.HashFile(leafCheckString(L, 1, fname))
	if err != nil {
		return leafFail(L, fname, err)
	}
	L.Push(lua.LString(sum.String()))
	return 1
}

// hashString implements haz.hash.string.
func hashString(L *lua.LState) int {
	L.Push(lua.LString(fingerprint.HashBytes([]byte(leafCheckString(L, 1, "haz.hash.string"))).String()))
	return 1
}
