package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Inputs of the scaling group, generated under the run's temporary
// directory (see scaling.go for what is run on them):
//
//	WORKLOAD/N/   one directory per workload (chain, fanout, body) and task
//	              count N, holding:
//	  build.lua       the graph, one haz.task line per task (as in the tasks group)
//	  loop.lua        the same graph built in a Lua for loop
//	  data.lua        build.lua's option tables, built line by line into the
//	                  global list T, without calling haz.task
//	  data-loop.lua   loop.lua's option tables, built in the same loop into T
//	  build.ninja     the same graph as phony edges
//	empty/        empty.lua (an empty script) and build.ninja (one phony edge,
//	              `build all: phony`): the fixed costs of hazlua and ninja

// The file names of the scaling group (build.lua, loop.lua and empty.lua
// are hazScript, hazLoop and hazEmpty of the tasks group).
const (
	scalingData     = "data.lua"
	scalingDataLoop = "data-loop.lua"
	scalingEmptyDir = "empty"
)

// scalingWorkload is one task graph of the scaling group, at any size.
type scalingWorkload struct {
	name string // the benchmark: one of scalingNames
	dir  string // its directory under the group's root
	what string // one line for the report (the graph, without its size)
	top  func(n int) string
	// The files at n tasks: the two hazlua scripts, the two data-only
	// scripts building the same option tables, and ninja's graph.
	lines, loop, dataLines, dataLoop, ninja func(n int) string
}

// emptyBody is the body of the body workload's tasks.
const emptyBody = "function() end"

func allTop(int) string { return "all" }

// scalingWorkloads are the workloads in the order they run; their names are
// scalingNames.
var scalingWorkloads = []scalingWorkload{
	{
		name: "scaling-chain", dir: "chain",
		what:  "tasks without bodies in a chain (t1 ← t2 ← … ← tN), run the top one: `haz.task(\"tN\", {deps = {\"tN-1\"}})`; ninja: `build tN: phony tN-1`",
		top:   func(n int) string { return "t" + strconv.Itoa(n) },
		lines: luaChain, loop: luaChainLoop, dataLines: luaChainData, dataLoop: luaChainDataLoop, ninja: ninjaChain,
	},
	{
		name: "scaling-fanout", dir: "fanout",
		what:  "tasks without bodies in a fan-out (all ← t1..tN), run all: `haz.task(\"tK\", {})`, `haz.task(\"all\", {deps = {...}})`; ninja: `build tK: phony`, `build all: phony t1 … tN`",
		top:   allTop,
		lines: func(n int) string { return luaFan(n, "") }, loop: func(n int) string { return luaFanLoop(n, "") },
		dataLines: func(n int) string { return luaFanData(n, "") }, dataLoop: func(n int) string { return luaFanDataLoop(n, "") },
		ninja: func(n int) string { return ninjaFan(n, "") },
	},
	{
		name: "scaling-body", dir: "body",
		what:  "tasks with empty bodies in a fan-out, run all: `haz.task(\"tK\", {run = function() end})`, `haz.task(\"all\", {deps = {...}})`; ninja (which has no bodies): the fan-out's phony edges",
		top:   allTop,
		lines: func(n int) string { return luaFan(n, emptyBody) }, loop: func(n int) string { return luaFanLoop(n, emptyBody) },
		dataLines: func(n int) string { return luaFanData(n, emptyBody) }, dataLoop: func(n int) string { return luaFanDataLoop(n, emptyBody) },
		ninja: func(n int) string { return ninjaFan(n, "") },
	},
}

// scalingDir is the directory of workload w at n tasks under root.
func scalingDir(root string, w scalingWorkload, n int) string {
	return filepath.Join(root, w.dir, strconv.Itoa(n))
}

// writeScalingInputs generates the inputs of the given workloads at every
// size under root, and the empty script and graph.
func writeScalingInputs(root string, ws []scalingWorkload, sizes []int) error {
	if err := writeFiles(filepath.Join(root, scalingEmptyDir), map[string]string{hazEmpty: "", "build.ninja": ninjaFan(0, "")}); err != nil {
		return err
	}
	for _, w := range ws {
		for _, n := range sizes {
			files := map[string]string{
				hazScript:       w.lines(n),
				hazLoop:         w.loop(n),
				scalingData:     w.dataLines(n),
				scalingDataLoop: w.dataLoop(n),
				"build.ninja":   w.ninja(n),
			}
			if err := writeFiles(scalingDir(root, w, n), files); err != nil {
				return err
			}
		}
	}
	return nil
}

// The data-only scripts build the option tables that the hazlua scripts
// pass to haz.task, the same way (literals line by line, or in the same
// loop), and keep each in the global list T so that none is collected;
// the task names are not kept (a hazlua script passes them to haz.task
// and keeps them nowhere else; the fan-out's deps list holds them in both).

// luaChainData is luaChain's tables: T[1] = {}, T[i] = {deps = {"t(i-1)"}}.
func luaChainData(n int) string {
	var b strings.Builder
	b.WriteString("T = {}\nT[1] = {}\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "T[%d] = {deps = {\"t%d\"}}\n", i, i-1)
	}
	return b.String()
}

func luaChainDataLoop(n int) string {
	return fmt.Sprintf(`T = {}
T[1] = {}
for i = 2, %d do
  T[i] = {deps = {"t" .. (i - 1)}}
end
`, n)
}

// luaFanData is luaFan's tables: T[i] = {} (or {run = body}) for each task
// and T[n+1] = {deps = {"t1", …, "tn"}} for all.
func luaFanData(n int, body string) string {
	opts := "{}"
	if body != "" {
		opts = "{run = " + body + "}"
	}
	var b strings.Builder
	b.WriteString("T = {}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "T[%d] = %s\n", i, opts)
	}
	fmt.Fprintf(&b, "T[%d] = {deps = {%s}}\n", n+1, taskList(n, `"`, ", "))
	return b.String()
}

func luaFanDataLoop(n int, body string) string {
	opts := "{}"
	if body != "" {
		opts = "{run = " + body + "}"
	}
	return fmt.Sprintf(`T = {}
local deps = {}
for i = 1, %[1]d do
  deps[i] = "t" .. i
  T[i] = %[2]s
end
T[%[1]d + 1] = {deps = deps}
`, n, opts)
}
