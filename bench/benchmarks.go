package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Benchmarks come in groups, each with its own section of the report file:
// core (the process layer: startup, spawn, pipe, capture), tasks (the
// task runner against ninja, make and go-task; see tasks.go), cache (the
// up-to-date check and the cache against ninja, go-task and cp; see
// cache.go) and scaling (the cost per task from 1,000 to 100,000 tasks;
// see scaling.go).
var (
	coreNames    = []string{"startup", "spawn", "pipe", "capture"}
	taskNames    = []string{"task-chain", "task-fanout", "task-body", "task-spawn"}
	cacheNames   = []string{"cache-noop", "cache-touched", "cache-first-build", "cache-restore", "remote"}
	scalingNames = []string{"scaling-chain", "scaling-fanout", "scaling-body"}
	groups       = map[string][]string{"core": coreNames, "tasks": taskNames, "cache": cacheNames, "scaling": scalingNames}
	// benchmarkNames lists the benchmarks in the order they run.
	benchmarkNames = slices.Concat(coreNames, taskNames, cacheNames, scalingNames)
)

func isBenchmark(name string) bool { return slices.Contains(benchmarkNames, name) }

// variant is one program measured in a benchmark: hazlua or an anchor.
type variant struct {
	label  string
	argv   []string
	hazlua bool
	preErr string // an error known before running (hazlua did not build)
	expect string // if set, trimmed stdout must equal it

	key   string // names the variant for evaluation (tasks group)
	tasks int    // how many tasks the variant's input declares (tasks group)
	// fallback replaces the variant when its warm-up run takes longer than
	// slowAfter (go-task at 10,000 tasks).
	fallback  *variant
	slowAfter time.Duration

	// before and after, when set, run around every measured run of the
	// variant (the warm-up included), outside the timed region: the cache
	// group touches inputs or deletes outputs before, and checks what the
	// run did after. An error of either fails the variant.
	before, after func() error

	// timeout, when set, bounds each run of the variant instead of
	// runTimeout; a run killed at it fails the variant.
	timeout time.Duration
}

// benchmark is one comparison. variants[0] is hazlua.
type benchmark struct {
	name      string
	what      string // one line for the report
	variants  []variant
	hyperfine bool // many short runs per round (startup); otherwise one run per round
}

// benchmarks defines every benchmark of the run.
func benchmarks(bins binaries, s scriptSet, sz sizes) []benchmark {
	hazlua := func(script string) variant {
		return variant{label: "hazlua", argv: []string{bins.hazlua, script}, hazlua: true, preErr: bins.hazluaErr}
	}
	bash := func(script string) []string { return []string{"bash", "-c", script} }
	spawns := strconv.Itoa(sz.spawns)
	pipeBytes := strconv.FormatInt(sz.pipeBytes, 10)
	return []benchmark{
		{
			name:      "startup",
			what:      "run an empty script: `hazlua empty.lua` vs `lua5.4 -e ''` vs a bare gopher-lua program (new state, empty chunk)",
			hyperfine: true,
			variants: []variant{
				hazlua(s.empty),
				{label: "lua5.4", argv: []string{"lua5.4", "-e", ""}},
				{label: "gopher-lua bare", argv: []string{bins.barelua}},
			},
		},
		{
			name: "spawn",
			what: fmt.Sprintf("%d sequential `/bin/true`: `haz.run{\"/bin/true\"}` in a loop vs Go `exec.Command(\"/bin/true\").Run()` loop vs bash loop", sz.spawns),
			variants: []variant{
				hazlua(s.spawn),
				{label: "Go os/exec", argv: []string{bins.execloop, "-n", spawns, "/bin/true"}},
				{label: "bash", argv: bash("for i in $(seq " + spawns + "); do /bin/true; done")}},
		},
		{
			name: "pipe",
			what: fmt.Sprintf("%s through `head -c %s /dev/zero | cat | cat | wc -c`: `haz.pipe(...):wait()` vs bash", humanBytes(sz.pipeBytes), pipeBytes),
			variants: []variant{
				hazlua(s.pipe),
				{label: "bash", argv: bash("head -c " + pipeBytes + " /dev/zero | cat | cat | wc -c"), expect: pipeBytes},
			},
		},
		{
			name: "capture",
			what: fmt.Sprintf("capture %s of stdout in memory: `haz.spawn{\"head\",...}` + `p:stdout()` vs lua5.4 `io.popen(...):read(\"a\")`", humanBytes(sz.captureBytes)),
			variants: []variant{
				hazlua(s.capture),
				{label: "lua5.4", argv: []string{"lua5.4", s.luaCapture}},
			},
		},
	}
}
