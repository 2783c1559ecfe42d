package main

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// Variant keys of the tasks group (variant.key), used by evaluateTasks.
const (
	keyHazlua     = "hazlua"      // generated script, one declaration per task
	keyHazluaLoop = "hazlua-loop" // the same graph built in a Lua loop
	keyNoRun      = "hazlua-norun"
	keyNoRunLoop  = "hazlua-norun-loop"
	keyEmpty      = "hazlua-empty"
	keyNinja      = "ninja"
	keyMake       = "make"
	keyGoTask     = "go-task"
	keyGoTaskNone = "go-task-empty"
)

// hazluaTaskFlags are the flags every tasks-group hazlua run gets: raw
// output (no prefixing or grouping of task output) and quiet (no progress or
// summary lines), so that what is measured is the running of tasks.
var hazluaTaskFlags = []string{"-o", "raw", "-q"}

// taskBenchmarks defines the tasks group.
func taskBenchmarks(bins binaries, tools toolSet, in taskInputs, sz sizes) []benchmark {
	n, m := sz.tasks, sz.taskSpawns
	rel := func(dir string) string {
		r, err := filepath.Rel(in.root, dir)
		if err != nil {
			return dir
		}
		return r
	}
	hazlua := func(key, label, dir, script string, tasks int, extra []string, target string) variant {
		argv := append([]string{bins.hazlua, "-C", rel(dir)}, extra...)
		argv = append(argv, hazluaTaskFlags...)
		argv = append(argv, script)
		if target != "" {
			argv = append(argv, target)
		}
		return variant{key: key, label: label, argv: argv, hazlua: true, preErr: bins.hazluaErr, tasks: tasks}
	}
	missing := func(path, what string) string {
		if path == "" {
			return "error: " + what + " is not installed"
		}
		return ""
	}
	ninja := func(dir string, tasks int, extra []string, target string) variant {
		argv := append([]string{tools.ninja, "-C", rel(dir), "--quiet"}, extra...)
		return variant{key: keyNinja, label: "ninja", argv: append(argv, target), preErr: missing(tools.ninja, "ninja"), tasks: tasks}
	}
	mk := func(dir string, tasks int, extra []string, target string) variant {
		argv := append([]string{tools.make, "-C", rel(dir), "-s"}, extra...)
		return variant{key: keyMake, label: "make", argv: append(argv, target), preErr: missing(tools.make, "make"), tasks: tasks}
	}
	gotaskAt := func(key, label, dir string, tasks int, target string) variant {
		return variant{key: key, label: label, argv: []string{tools.gotask, "-d", rel(dir), "--silent", target},
			preErr: missing(tools.gotask, "go-task "+goTaskVersion), tasks: tasks}
	}
	// gotask is go-task at n tasks, falling back to sz.gotaskFallback tasks
	// when one run is slower than sz.gotaskSlow.
	gotask := func(dir string, top func(int) string) variant {
		k := sz.gotaskFallback
		v := gotaskAt(keyGoTask, "go-task", goTaskDir(dir, n, n), n, top(n))
		if k < n {
			fb := gotaskAt(keyGoTask, fmt.Sprintf("go-task (%d tasks)", k), goTaskDir(dir, k, n), k, top(k))
			v.fallback, v.slowAfter = &fb, sz.gotaskSlow
		}
		return v
	}
	chainTop := func(k int) string { return "t" + strconv.Itoa(k) }
	fanTop := func(int) string { return "all" }
	top := chainTop(n)

	return []benchmark{
		{
			name: "task-chain",
			what: fmt.Sprintf("%d tasks without bodies in a chain (t1 ← t2 ← … ← t%d), run the top one: `haz.task(\"tN\", {deps = {\"tN-1\"}})` vs ninja `build tN: phony tN-1` vs make `.PHONY` targets without recipes vs go-task `deps: [tN-1]` without cmds", n, n),
			variants: []variant{
				hazlua(keyHazlua, "hazlua", in.chain, hazScript, n, nil, top),
				hazlua(keyHazluaLoop, "hazlua (loop script)", in.chain, hazLoop, n, nil, top),
				ninja(in.chain, n, nil, top),
				mk(in.chain, n, nil, top),
				gotask(in.chain, chainTop),
			},
		},
		{
			name: "task-fanout",
			what: fmt.Sprintf("%d tasks without bodies in a fan-out (all ← t1..t%d), run all: the same four tools", n, n),
			variants: []variant{
				hazlua(keyHazlua, "hazlua", in.fanout, hazScript, n, nil, "all"),
				hazlua(keyHazluaLoop, "hazlua (loop script)", in.fanout, hazLoop, n, nil, "all"),
				ninja(in.fanout, n, nil, "all"),
				mk(in.fanout, n, nil, "all"),
				gotask(in.fanout, fanTop),
			},
		},
		{
			name: "task-body",
			what: fmt.Sprintf("%d tasks with empty bodies (`run = function() end`) in a fan-out, run all, vs the same %d declarations without `run`, vs an empty script; go-task fan-out (tasks without cmds) vs a Taskfile with one empty task, for reference", n, n),
			variants: []variant{
				hazlua(keyHazlua, "hazlua bodies", in.body, hazScript, n, nil, "all"),
				hazlua(keyNoRun, "hazlua no run", in.body, hazNoRun, n, nil, "all"),
				hazlua(keyHazluaLoop, "hazlua bodies (loop script)", in.body, hazLoop, n, nil, "all"),
				hazlua(keyNoRunLoop, "hazlua no run (loop script)", in.body, hazNoRunLoop, n, nil, "all"),
				hazlua(keyEmpty, "hazlua empty script", in.body, hazEmpty, 0, nil, ""),
				gotask(in.body, fanTop),
				gotaskAt(keyGoTaskNone, "go-task one empty task", filepath.Join(in.body, goTaskEmptDir), 0, "all"),
			},
		},
		{
			name: "task-spawn",
			what: fmt.Sprintf("%d tasks each running `/bin/true` in a fan-out, 2 jobs: `run = function() haz.run{\"/bin/true\"} end` with `-j2` vs `make -j2` (recipe `/bin/true`) vs `ninja -j2` (rule `command = /bin/true`)", m),
			variants: []variant{
				hazlua(keyHazlua, "hazlua -j2", in.spawn, hazScript, m, []string{"-j2"}, "all"),
				hazlua(keyHazluaLoop, "hazlua -j2 (loop script)", in.spawn, hazLoop, m, []string{"-j2"}, "all"),
				mk(in.spawn, m, []string{"-j2"}, "all"),
				ninja(in.spawn, m, []string{"-j2"}, "all"),
			},
		},
	}
}
