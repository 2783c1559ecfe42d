package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Inputs of the tasks group. Each benchmark gets a directory under the run's
// temporary directory holding the same task graph for every tool; the tools
// are pointed at it with -C (hazlua, ninja, make) or -d (go-task):
//
//	chain/   t1 ← t2 ← … ← tN, no bodies; top task tN
//	fanout/  all ← t1..tN, no bodies; top task all
//	body/    all ← t1..tN with run = function() end, and the baselines
//	spawn/   all ← t1..tM, each running /bin/true
//
// The hazlua script of each is generated the way ninja and make files are,
// one declaration per task (build.lua); loop.lua builds the same graph in a
// Lua loop, to tell what the size of the script costs from what the task
// machinery costs. go-task files for the fallback size live in gotask-K/.
type taskInputs struct {
	root   string
	chain  string
	fanout string
	body   string
	spawn  string
}

// The file names inside each directory.
const (
	hazScript     = "build.lua" // one haz.task line per task
	hazLoop       = "loop.lua"  // the same graph built in a loop
	hazNoRun      = "decls.lua" // body/: build.lua without run
	hazNoRunLoop  = "decls-loop.lua"
	hazEmpty      = "empty.lua" // body/: an empty script
	goTaskEmptDir = "gotask-empty"
)

// goTaskDir is the directory of the go-task file for n tasks: dir itself for
// the full size, dir/gotask-n for another.
func goTaskDir(dir string, n, full int) string {
	if n == full {
		return dir
	}
	return filepath.Join(dir, fmt.Sprintf("gotask-%d", n))
}

// writeTaskInputs generates every input of the tasks group under root.
func writeTaskInputs(root string, sz sizes) (taskInputs, error) {
	in := taskInputs{
		root:   root,
		chain:  filepath.Join(root, "chain"),
		fanout: filepath.Join(root, "fanout"),
		body:   filepath.Join(root, "body"),
		spawn:  filepath.Join(root, "spawn"),
	}
	n, m, k := sz.tasks, sz.taskSpawns, sz.gotaskFallback
	files := map[string]string{
		filepath.Join(in.chain, hazScript):                       luaChain(n),
		filepath.Join(in.chain, hazLoop):                         luaChainLoop(n),
		filepath.Join(in.chain, "build.ninja"):                   ninjaChain(n),
		filepath.Join(in.chain, "Makefile"):                      makeChain(n),
		filepath.Join(goTaskDir(in.chain, n, n), "Taskfile.yml"): goTaskChain(n),
		filepath.Join(goTaskDir(in.chain, k, n), "Taskfile.yml"): goTaskChain(k),

		filepath.Join(in.fanout, hazScript):                       luaFan(n, ""),
		filepath.Join(in.fanout, hazLoop):                         luaFanLoop(n, ""),
		filepath.Join(in.fanout, "build.ninja"):                   ninjaFan(n, ""),
		filepath.Join(in.fanout, "Makefile"):                      makeFan(n, ""),
		filepath.Join(goTaskDir(in.fanout, n, n), "Taskfile.yml"): goTaskFan(n),
		filepath.Join(goTaskDir(in.fanout, k, n), "Taskfile.yml"): goTaskFan(k),

		filepath.Join(in.body, hazScript):                       luaFan(n, "function() end"),
		filepath.Join(in.body, hazLoop):                         luaFanLoop(n, "function() end"),
		filepath.Join(in.body, hazNoRun):                        luaFan(n, ""),
		filepath.Join(in.body, hazNoRunLoop):                    luaFanLoop(n, ""),
		filepath.Join(in.body, hazEmpty):                        "",
		filepath.Join(goTaskDir(in.body, n, n), "Taskfile.yml"): goTaskFan(n),
		filepath.Join(goTaskDir(in.body, k, n), "Taskfile.yml"): goTaskFan(k),
		filepath.Join(in.body, goTaskEmptDir, "Taskfile.yml"):   goTaskFan(0),

		filepath.Join(in.spawn, hazScript):     luaFan(m, `function() haz.run{"/bin/true"} end`),
		filepath.Join(in.spawn, hazLoop):       luaFanLoop(m, `function() haz.run{"/bin/true"} end`),
		filepath.Join(in.spawn, "build.ninja"): ninjaFan(m, "/bin/true"),
		filepath.Join(in.spawn, "Makefile"):    makeFan(m, "/bin/true"),
	}
	for path, text := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return in, err
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return in, err
		}
	}
	return in, nil
}

// taskList is "t1 t2 … tn" with each name wrapped by quote and joined by sep.
func taskList(n int, quote, sep string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(sep)
		}
		fmt.Fprintf(&b, "%st%d%s", quote, i, quote)
	}
	return b.String()
}

// luaChain declares t1 and then ti with deps = {"t(i-1)"}, one line each.
func luaChain(n int) string {
	var b strings.Builder
	b.WriteString("haz.task(\"t1\", {})\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "haz.task(\"t%d\", {deps = {\"t%d\"}})\n", i, i-1)
	}
	return b.String()
}

func luaChainLoop(n int) string {
	return fmt.Sprintf(`haz.task("t1", {})
for i = 2, %d do
  haz.task("t" .. i, {deps = {"t" .. (i - 1)}})
end
`, n)
}

// luaFan declares t1..tn, with run = body when body is not "", one line
// each, and all with deps on every one of them.
func luaFan(n int, body string) string {
	opts := "{}"
	if body != "" {
		opts = "{run = " + body + "}"
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "haz.task(\"t%d\", %s)\n", i, opts)
	}
	fmt.Fprintf(&b, "haz.task(\"all\", {deps = {%s}})\n", taskList(n, `"`, ", "))
	return b.String()
}

func luaFanLoop(n int, body string) string {
	opts := "{}"
	if body != "" {
		opts = "{run = " + body + "}"
	}
	return fmt.Sprintf(`local deps = {}
for i = 1, %d do
  deps[i] = "t" .. i
  haz.task(deps[i], %s)
end
haz.task("all", {deps = deps})
`, n, opts)
}

// ninjaChain: phony targets, build ti: phony t(i-1).
func ninjaChain(n int) string {
	var b strings.Builder
	b.WriteString("build t1: phony\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "build t%d: phony t%d\n", i, i-1)
	}
	return b.String()
}

// ninjaFan: t1..tn phony (or each running command), all phony on them.
func ninjaFan(n int, command string) string {
	var b strings.Builder
	rule := "phony"
	if command != "" {
		rule = "cmd"
		fmt.Fprintf(&b, "rule cmd\n  command = %s\n", command)
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "build t%d: %s\n", i, rule)
	}
	fmt.Fprintf(&b, "build all: phony %s\n", taskList(n, "", " "))
	return b.String()
}

// makeChain: .PHONY targets without recipes, ti: t(i-1).
func makeChain(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".PHONY: %s\n", taskList(n, "", " "))
	b.WriteString("t1:\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "t%d: t%d\n", i, i-1)
	}
	return b.String()
}

// makeFan: .PHONY t1..tn without recipes (or with command), all: t1..tn.
func makeFan(n int, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".PHONY: all %s\n", taskList(n, "", " "))
	fmt.Fprintf(&b, "all: %s\n", taskList(n, "", " "))
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "t%d:\n", i)
		if command != "" {
			fmt.Fprintf(&b, "\t%s\n", command)
		}
	}
	return b.String()
}

// goTaskChain: Taskfile.yml, ti with deps: [t(i-1)], no cmds.
func goTaskChain(n int) string {
	var b strings.Builder
	b.WriteString("version: '3'\ntasks:\n  t1: {}\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "  t%d:\n    deps: [t%d]\n", i, i-1)
	}
	return b.String()
}

// goTaskFan: Taskfile.yml, t1..tn without cmds, all with deps on them (for
// n = 0 the file has only all, without deps: go-task's empty run).
func goTaskFan(n int) string {
	var b strings.Builder
	b.WriteString("version: '3'\ntasks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  t%d: {}\n", i)
	}
	if n == 0 {
		b.WriteString("  all: {}\n")
	} else {
		fmt.Fprintf(&b, "  all:\n    deps: [%s]\n", taskList(n, "", ", "))
	}
	return b.String()
}
