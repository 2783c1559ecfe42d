// Package arch has no code: its test keeps hazlua's layers pointing one
// way (docs/design.md, at the top). The command (the main package and
// internal/cli) uses luaapi, luaapi uses runner, runner uses proc, and
// never the other way round:
//
//   - proc imports nothing of hazlua but leaf helpers: packages under
//     internal/ that import nothing of hazlua themselves.
//   - runner imports neither luaapi nor the command.
//   - luaapi does not import the command.
//   - Only luaapi imports gopher-lua (and bench/barelua, the benchmark of
//     bare gopher-lua that hazlua's overhead is measured against).
//   - Only the main package imports internal/cli.
//
// For the layers, indirect imports count (runner may not import a package
// that imports luaapi); gopher-lua may be reached indirectly, through
// luaapi, but imported only there. A package's tests count with it:
// runner's tests may not use luaapi either.
package arch
