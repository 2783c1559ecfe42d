module github.com/yuin/gopher-lua

go 1.23

// hazlua: no requirements; they were the glua REPL's (cmd/, left out).
