package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The scaling group (-only scaling, or its benchmarks scaling-chain,
// scaling-fanout, scaling-body) runs each workload of scalinginputs.go at
// every size of sizes.scalingTasks, smallest first. Each size is one
// benchmark of its own, whose rounds run side by side: hazlua on both
// scripts, the two data-only scripts, the empty script, ninja on the same
// graph and ninja on one phony edge. See scalingreport.go for what is
// judged.

// Variant keys of the scaling group besides keyHazlua, keyHazluaLoop,
// keyEmpty and keyNinja of the tasks group.
const (
	keyData       = "data"      // data.lua: build.lua's tables, no haz.task
	keyDataLoop   = "data-loop" // data-loop.lua: loop.lua's tables, no haz.task
	keyNinjaEmpty = "ninja-empty"
)

// ninjaStack is the stack limit ninja runs with in the scaling group: ninja
// walks a chain of edges recursively, and at 100,000 edges it overflows the
// default 8 MiB stack (it crashes with SIGSEGV; 64 MiB is enough).
const ninjaStack = "1073741824"

// scalingRun is one workload at one size.
type scalingRun struct {
	tasks int
	br    benchResult
}

// scalingResult is one workload at every size, smallest first.
type scalingResult struct {
	w    scalingWorkload
	runs []scalingRun
}

// selectedWorkloads are the workloads cfg runs, in order.
func selectedWorkloads(cfg config) []scalingWorkload {
	var ws []scalingWorkload
	for _, w := range scalingWorkloads {
		if cfg.selected(w.name) {
			ws = append(ws, w)
		}
	}
	return ws
}

// runScalingGroup writes the inputs of the selected workloads under dir and
// runs each at every size. A variant that timed out at one size is not run
// at the larger ones (its cells there say so).
func runScalingGroup(cfg config, dir string, bins binaries, tools toolSet) ([]scalingResult, error) {
	ws := selectedWorkloads(cfg)
	progress("bench: scaling: writing the inputs (%s tasks)", joinInts(cfg.sizes.scalingTasks, ", "))
	if err := writeScalingInputs(dir, ws, cfg.sizes.scalingTasks); err != nil {
		return nil, err
	}
	var results []scalingResult
	for _, w := range ws {
		res := scalingResult{w: w}
		gaveUp := map[string]string{} // variant key → why it is not run any more
		for _, n := range cfg.sizes.scalingTasks {
			b := scalingBenchmark(w, n, dir, bins, tools, cfg.sizes)
			for i := range b.variants {
				v := &b.variants[i]
				if why, ok := gaveUp[v.key]; ok && v.preErr == "" {
					v.preErr = "error: not run: " + why
				}
			}
			br := runBenchmark(b, cfg, tools, dir)
			for _, r := range br.results {
				if _, ok := gaveUp[r.key]; !ok && strings.Contains(r.err, errTimedOut.Error()) {
					gaveUp[r.key] = fmt.Sprintf("timed out at %d tasks", n)
					progress("bench: %s: %s: FAILED at %d tasks: %s", w.name, r.label, n, r.err)
				}
			}
			res.runs = append(res.runs, scalingRun{tasks: n, br: br})
		}
		results = append(results, res)
	}
	return results, nil
}

// scalingBenchmark is workload w at n tasks, with its inputs under root.
func scalingBenchmark(w scalingWorkload, n int, root string, bins binaries, tools toolSet, sz sizes) benchmark {
	rel := func(dir string) string {
		r, err := filepath.Rel(root, dir)
		if err != nil {
			return dir
		}
		return r
	}
	dir, emptyDir := scalingDir(root, w, n), filepath.Join(root, scalingEmptyDir)
	top := w.top(n)
	hazlua := func(key, label, dir, script, target string, tasks int) variant {
		argv := append([]string{bins.hazlua, "-C", rel(dir)}, hazluaTaskFlags...)
		argv = append(argv, script)
		if target != "" {
			argv = append(argv, target)
		}
		return variant{key: key, label: label, argv: argv, hazlua: true, preErr: bins.hazluaErr, tasks: tasks, timeout: sz.scalingTimeout}
	}
	ninja := func(key, label, dir, target string, tasks int) variant {
		argv := []string{tools.ninja, "-C", rel(dir), "--quiet", target}
		if tools.prlimit != "" && tools.ninja != "" {
			// prlimit finds ninja on the PATH, where LookPath found it.
			argv[0] = filepath.Base(tools.ninja)
			argv = append([]string{tools.prlimit, "--stack=" + ninjaStack, "--"}, argv...)
		}
		return variant{key: key, label: label, argv: argv, preErr: missingTool(tools.ninja, "ninja"), tasks: tasks, timeout: sz.scalingTimeout}
	}
	return benchmark{
		name: fmt.Sprintf("%s at %d tasks", w.name, n),
		what: fmt.Sprintf("%d %s", n, w.what),
		variants: []variant{
			hazlua(keyHazlua, "hazlua build.lua", dir, hazScript, top, n),
			hazlua(keyHazluaLoop, "hazlua loop.lua", dir, hazLoop, top, n),
			hazlua(keyData, "data only, build.lua's form", dir, scalingData, "", n),
			hazlua(keyDataLoop, "data only, loop.lua's form", dir, scalingDataLoop, "", n),
			hazlua(keyEmpty, "hazlua empty script", emptyDir, hazEmpty, "", 0),
			ninja(keyNinja, "ninja (phony edges)", dir, top, n),
			ninja(keyNinjaEmpty, "ninja, one phony edge", emptyDir, "all", 0),
		},
	}
}

// joinInts joins xs with sep.
func joinInts(xs []int, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}
