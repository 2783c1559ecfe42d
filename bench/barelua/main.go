// Command barelua is the startup anchor of the hazlua benchmarks: the least a
// Go program built on gopher-lua can do — create a Lua state, run an empty
// chunk, close the state. hazlua's own startup is compared against it.
package main

import (
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"
)

func main() {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(""); err != nil {
		fmt.Fprintln(os.Stderr, "barelua:", err)
		os.Exit(1)
	}
}
