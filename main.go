// Command hazlua runs a Lua build script: hazlua [flags] [SCRIPT] [TASK...] [-- ARG...].
// The command itself is internal/cli.
package main

import (
	"os"

	"github.com/hazlua/hazlua/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
