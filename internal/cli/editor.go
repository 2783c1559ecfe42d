package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/hazlua/hazlua/internal/completion"
	"github.com/hazlua/hazlua/internal/luatypes"
	"github.com/hazlua/hazlua/luaapi"
)

// luarcFile is the settings file of lua-language-server that --types
// updates, in the working directory.
const luarcFile = ".luarc.json"

// writeTypes writes the haz module's definition file into dir and adds
// dir to the .luarc.json of the working directory (after -C), creating
// it if need be (docs/editors.md).
func writeTypes(stdout io.Writer, dir string) error {
	if err := luatypes.WriteDir(dir, luaapi.API()); err != nil {
		return runtimeError(fmt.Errorf("--types: %w", err))
	}
	old, err := os.ReadFile(luarcFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return runtimeError(err)
	}
	lib := dir // relative to the working directory, where .luarc.json is
	if wd, err := os.Getwd(); err == nil && filepath.IsAbs(dir) {
		if rel, err := filepath.Rel(wd, dir); err == nil && filepath.IsLocal(rel) {
			lib = rel
		}
	}
	rc, err := luatypes.Luarc(old, filepath.ToSlash(lib))
	if err != nil {
		return runtimeError(err)
	}
	if err := os.WriteFile(luarcFile, rc, 0o644); err != nil {
		return runtimeError(err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(dir, luatypes.MetaFile), luarcFile)
	return nil
}

// argKinds says what each flag with a value takes, for completion.
var argKinds = map[string]completion.Flag{
	"file":       {Arg: completion.ArgFile},
	"directory":  {Arg: completion.ArgDir},
	"cache-dir":  {Arg: completion.ArgDir},
	"types":      {Arg: completion.ArgDir},
	"report":     {Arg: completion.ArgFile},
	"trace":      {Arg: completion.ArgFile},
	"output":     {Arg: completion.ArgWord, Words: []string{"prefixed", "grouped", "raw"}},
	"color":      {Arg: completion.ArgWord, Words: []string{"auto", "always", "never"}},
	"completion": {Arg: completion.ArgWord, Words: completion.Shells},
}

// writeCompletion prints the completion script for shell, made from the
// flags themselves.
func writeCompletion(stdout io.Writer, shell string) error {
	var o options
	var help bool
	var grace string
	var op cacheOp
	var flags []completion.Flag
	newFlagSet(&o, &help, &grace, &op).VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		cf := argKinds[f.Name]
		cf.Long, cf.Short = f.Name, f.Shorthand
		_, cf.Doc = pflag.UnquoteUsage(f)
		if cf.Arg == "" && f.Value.Type() != "bool" {
			cf.Arg = completion.ArgWord
		}
		flags = append(flags, cf)
	})
	s, err := completion.Script(shell, "hazlua", flags)
	if err != nil {
		return usageErrorf("--completion: %v", err)
	}
	_, err = stdout.Write(s)
	return err
}
