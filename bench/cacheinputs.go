package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Inputs of the cache group, generated under the run's temporary directory
// (see cache.go for what is run on them):
//
//	noop/haz, noop/loop        the graph of cache-noop for hazlua: build.lua
//	                           (one haz.task line per task), loop.lua (a Lua loop)
//	noop/ninja, noop/ninja-touched
//	                           the same graph as build.ninja (the second copy is
//	                           the one cache-touched makes ninja rebuild)
//	noop/gotask, noop/gotask-K the same graph as a Taskfile.yml, at the full size
//	                           and at the fallback size K
//	first/examples             a copy of examples/build.lua and examples/cproject,
//	                           with build-noinputs.lua
//	first/cgen                 the generated C project: src/*.c, build.lua,
//	                           build-noinputs.lua
//	restore/files, restore/dir the outputs of cache-restore, as one task per file
//	                           and as one task with a directory output
//	restore/cp                 aside/: a copy of restore/files/out for cp -r
//
// Every graph directory holds its own copy of the inputs (in/), with the
// same contents in every copy, and an empty out/.

// Names in the cache-noop graph. Task i (1-based) is "o<i>", reads the
// inputs in/i<i>_<j> (j = 1..m) and writes out/o<i>, their concatenation;
// "all" depends on every task.
func cacheTaskName(i int) string    { return fmt.Sprintf("o%d", i) }
func cacheInput(i, j int) string    { return fmt.Sprintf("in/i%d_%d", i, j) }
func cacheOutput(i int) string      { return fmt.Sprintf("out/o%d", i) }
func cacheInputs(i, m int) []string { return mapN(m, func(j int) string { return cacheInput(i, j) }) }

// mapN is f(1), …, f(n).
func mapN(n int, f func(int) string) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = f(i + 1)
	}
	return s
}

// luaStrings renders items as Lua string literals separated by ", ".
func luaStrings(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// luaCacheGraph declares the cache-noop graph one line per task, as a
// generator of build files would: each task's inputs, output and cat
// command written out.
func luaCacheGraph(n, m int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		in := luaStrings(cacheInputs(i, m))
		fmt.Fprintf(&b, "haz.task(%q, {inputs = {%s}, outputs = {%q}, run = function() haz.run{stdout = {file = %q}, \"cat\", %s} end})\n",
			cacheTaskName(i), in, cacheOutput(i), cacheOutput(i), in)
	}
	fmt.Fprintf(&b, "haz.task(\"all\", {deps = {%s}})\n", luaStrings(mapN(n, cacheTaskName)))
	return b.String()
}

// luaCacheGraphLoop builds the same graph in a Lua loop. The body captures
// out (a string, part of its fingerprint) and ins (a table, which the
// fingerprint does not see, but the inputs pattern it was made from is).
func luaCacheGraphLoop(n, m int) string {
	return fmt.Sprintf(`local deps = {}
for i = 1, %d do
  local name, out, ins = "o" .. i, "out/o" .. i, {}
  for j = 1, %d do ins[j] = "in/i" .. i .. "_" .. j end
  deps[i] = name
  haz.task(name, {inputs = ins, outputs = {out}, run = function()
    haz.run{stdout = {file = out}, "cat", unpack(ins)}
  end})
end
haz.task("all", {deps = deps})
`, n, m)
}

// ninjaCacheGraph is the cache-noop graph for ninja.
func ninjaCacheGraph(n, m int) string {
	var b strings.Builder
	b.WriteString("rule cat\n  command = cat $in > $out\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "build %s: cat %s\n", cacheOutput(i), strings.Join(cacheInputs(i, m), " "))
	}
	fmt.Fprintf(&b, "build all: phony %s\n", strings.Join(mapN(n, cacheOutput), " "))
	return b.String()
}

// goTaskCacheGraph is the cache-noop graph for go-task: each task with
// method: checksum, its sources and its generated file.
func goTaskCacheGraph(n, m int) string {
	var b strings.Builder
	b.WriteString("version: '3'\ntasks:\n")
	for i := 1; i <= n; i++ {
		in := cacheInputs(i, m)
		fmt.Fprintf(&b, "  %s:\n    method: checksum\n    sources: [%s]\n    generates: [%s]\n    cmds:\n      - cat %s > %s\n",
			cacheTaskName(i), strings.Join(in, ", "), cacheOutput(i), strings.Join(in, " "), cacheOutput(i))
	}
	fmt.Fprintf(&b, "  all:\n    deps: [%s]\n", strings.Join(mapN(n, cacheTaskName), ", "))
	return b.String()
}

// cSources is the generated C project of cache-first-build: n files,
// src/main.c calling f1 … f(n-1), each in src/f<k>.c.
func cSources(n int) map[string]string {
	files := map[string]string{}
	var decls, calls strings.Builder
	for k := 1; k < n; k++ {
		files[fmt.Sprintf("src/f%d.c", k)] = fmt.Sprintf("int f%d(int x) {\n  int s = 0;\n  for (int i = 0; i < x; i++) s += i * %d;\n  return s;\n}\n", k, k)
		fmt.Fprintf(&decls, "int f%d(int);\n", k)
		fmt.Fprintf(&calls, "  s += f%d(argc);\n", k)
	}
	files["src/main.c"] = fmt.Sprintf("#include <stdio.h>\n%s\nint main(int argc, char **argv) {\n  (void)argv;\n  long s = 0;\n%s  printf(\"%%ld\\n\", s);\n  return 0;\n}\n", decls.String(), calls.String())
	return files
}

// luaCBuild compiles every src/*.c into build/obj, one task each (inputs =
// {src}, outputs = {obj}), then links build/app (inputs = {}).
const luaCBuild = `-- build.lua: compile every src/*.c, one task each, then link build/app.
local objs, compiles = {}, {}
for _, src in ipairs(haz.glob("src/*.c")) do
  local obj = "build/obj/" .. (haz.path.base(src):gsub("%.c$", ".o"))
  local name = "compile:" .. src
  haz.task(name, {inputs = {src}, outputs = {obj}, run = function()
    assert(haz.fs.mkdir("build/obj"))
    haz.run{"cc", "-O2", "-c", src, "-o", obj}
  end})
  objs[#objs + 1] = obj
  compiles[#compiles + 1] = name
end
haz.task("link", {deps = compiles, inputs = {}, outputs = {"build/app"}, run = function()
  haz.run{"cc", "-o", "build/app", unpack(objs)}
end})
`

// stripInputs removes every `inputs = {...}` field (with the separator
// after it) from the Lua source src, and a line it leaves blank, and says
// how many it removed. It knows enough Lua for build scripts: the field
// must start a table field (after `{`, `,`, `;` or at the start of a
// line), braces inside string literals and comments are skipped.
func stripInputs(src string) (string, int) {
	var b strings.Builder
	removed := 0
	i := 0
	for i < len(src) {
		j := strings.Index(src[i:], "inputs")
		if j < 0 {
			break
		}
		j += i
		end, ok := inputsField(src, j)
		if !ok {
			b.WriteString(src[i : j+len("inputs")])
			i = j + len("inputs")
			continue
		}
		// Drop the field; then, if its line is now blank, the whole line.
		lineStart := strings.LastIndexByte(src[:j], '\n') + 1
		before := src[i:j]
		if strings.TrimSpace(src[lineStart:j]) == "" && (end == len(src) || src[end] == '\n') {
			before = src[i:max(i, lineStart)]
			if end < len(src) {
				end++ // the newline
			}
		}
		b.WriteString(before)
		i = end
		removed++
	}
	b.WriteString(src[i:])
	return b.String(), removed
}

// inputsField reports whether an `inputs = {...}` table field starts at
// src[at] (which holds "inputs"), and where it ends: after its closing
// brace, the separator that follows and the spaces after that.
func inputsField(src string, at int) (int, bool) {
	isIdent := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	k := at - 1
	for k >= 0 && (src[k] == ' ' || src[k] == '\t') {
		k--
	}
	if k >= 0 && !strings.ContainsRune("{,;\n", rune(src[k])) {
		return 0, false // t.inputs, x_inputs, a call argument ...
	}
	p := at + len("inputs")
	if p < len(src) && isIdent(src[p]) {
		return 0, false
	}
	for p < len(src) && (src[p] == ' ' || src[p] == '\t') {
		p++
	}
	if p >= len(src) || src[p] != '=' || p+1 < len(src) && src[p+1] == '=' {
		return 0, false
	}
	p++
	for p < len(src) && (src[p] == ' ' || src[p] == '\t') {
		p++
	}
	if p >= len(src) || src[p] != '{' {
		return 0, false
	}
	depth := 0
	for ; p < len(src); p++ {
		switch c := src[p]; c {
		case '"', '\'':
			for p++; p < len(src) && src[p] != c; p++ {
				if src[p] == '\\' {
					p++
				}
			}
		case '-':
			if strings.HasPrefix(src[p:], "--") {
				nl := strings.IndexByte(src[p:], '\n')
				if nl < 0 {
					return 0, false
				}
				p += nl - 1
			}
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				p++
				for p < len(src) && (src[p] == ' ' || src[p] == '\t') {
					p++
				}
				if p < len(src) && (src[p] == ',' || src[p] == ';') {
					p++
					for p < len(src) && (src[p] == ' ' || src[p] == '\t') {
						p++
					}
				}
				return p, true
			}
		}
	}
	return 0, false
}

// restoreSeedBytes is the size of each cache-restore input: the task
// writes it over and over into its 100 KiB output.
const restoreSeedBytes = 64

// Names in the cache-restore projects: seed in/s<i>, output out/f<i>.
func restoreSeed(i int) string   { return fmt.Sprintf("in/s%d", i) }
func restoreOutput(i int) string { return fmt.Sprintf("out/f%d", i) }

// noRunGuard is a file the cache-restore bodies refuse to run beside: the
// harness creates it after the first build, so that a body that runs
// instead of being restored fails the benchmark.
const noRunGuard = "no-run"

// luaRestoreFiles declares n tasks, each writing one output of
// reps × its 64-byte seed (inputs = {seed}, outputs = {file}).
func luaRestoreFiles(n, reps int) string {
	return fmt.Sprintf(`local deps = {}
for i = 1, %d do
  local seed, out = "in/s" .. i, "out/f" .. i
  deps[i] = "f" .. i
  haz.task(deps[i], {inputs = {seed}, outputs = {out}, run = function()
    assert(not haz.fs.exists(%q), "the body ran: cache-restore expects a restore")
    assert(haz.fs.mkdir("out"))
    assert(haz.fs.write(out, string.rep(assert(haz.fs.read(seed)), %d)))
  end})
end
haz.task("all", {deps = deps})
`, n, noRunGuard, reps)
}

// luaRestoreDir declares one task writing the same n files into its one
// output, the directory out.
func luaRestoreDir(n, reps int) string {
	return fmt.Sprintf(`haz.task("all", {inputs = {"in/*"}, outputs = {"out"}, run = function()
  assert(not haz.fs.exists(%q), "the body ran: cache-restore expects a restore")
  assert(haz.fs.mkdir("out"))
  for i = 1, %d do
    assert(haz.fs.write("out/f" .. i, string.rep(assert(haz.fs.read("in/s" .. i)), %d)))
  end
end})
`, noRunGuard, n, reps)
}

// randomBytes is n bytes of a deterministic stream picked by seed: the
// same in every copy of a graph, distinct from file to file.
func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	copy(key[8:], "hazlua cache bench")
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// writeFiles writes files (path relative to dir → contents) under dir,
// making directories as needed.
func writeFiles(dir string, files map[string]string) error {
	for rel, text := range files {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeCacheGraphInputs writes the inputs of the cache-noop graph (n
// tasks × m inputs of size bytes) into every dir, with mtime t, and an
// empty out/ in each.
func writeCacheGraphInputs(dirs []string, n, m, size int, t time.Time) error {
	for _, dir := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
			return err
		}
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			data := randomBytes(uint64(i)<<20|uint64(j), size)
			for _, dir := range dirs {
				path := filepath.Join(dir, cacheInput(i, j))
				if err := os.WriteFile(path, data, 0o644); err != nil {
					return err
				}
				if err := os.Chtimes(path, t, t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// setMtimes sets the access and modification times of every path to t.
func setMtimes(paths []string, t time.Time) error {
	var errs []error
	for _, p := range paths {
		if err := os.Chtimes(p, t, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// under joins dir to every relative path.
func under(dir string, rels []string) []string {
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = filepath.Join(dir, r)
	}
	return out
}

// allCacheInputs lists every input of the n × m graph, relative.
func allCacheInputs(n, m int) []string {
	var s []string
	for i := 1; i <= n; i++ {
		s = append(s, cacheInputs(i, m)...)
	}
	return s
}
