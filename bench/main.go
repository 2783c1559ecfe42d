// Command bench measures hazlua against its anchors, side by side, in one run.
//
// Run it from anywhere inside the module (it finds the directory holding
// go.mod and works from there):
//
//	go run ./bench                    # every benchmark, 5 rounds, full sizes
//	go run ./bench -quick             # smaller sizes and fewer repetitions
//	go run ./bench -only startup,spawn
//	go run ./bench -only tasks          # the task-runner group only
//	go run ./bench -only cache          # the up-to-date check and the cache
//	go run ./bench -only scaling        # cost per task from 1,000 to 100,000 tasks
//	go run ./bench -rounds 9 -out docs/BENCHMARKS.md
//	go run ./bench -hazlua /path/to/hazlua -out -   # a prebuilt binary; print only
//
// It installs lua5.4 and hyperfine with apt-get when they are missing, builds
// hazlua (`go build .`) and the two Go anchors (bench/barelua,
// bench/execloop) into a temporary directory, generates the Lua scripts
// there, and then, for each benchmark, runs the hazlua variant and its
// anchors alternately, round after round. It prints a Markdown report and
// writes it into -out between the markers <!-- bench:core:start --> and
// <!-- bench:core:end -->, leaving the rest of that file alone.
//
// Benchmarks: startup (empty script vs lua5.4 -e "" vs a bare gopher-lua
// program), spawn (1000 sequential /bin/true: haz.run vs os/exec vs bash),
// pipe (1 GiB through head|cat|cat|wc: haz.pipe vs bash) and capture
// (128 MiB captured: hazlua vs lua5.4 io.popen, wall time, judged on the
// worst round, and peak RSS).
//
// The tasks group (-only tasks, or its benchmarks task-chain, task-fanout,
// task-body, task-spawn) compares hazlua's task runner with ninja, make and
// go-task on generated task graphs; it installs ninja-build and make with
// apt-get and go-task with go install when they are missing, and writes its
// own section between <!-- bench:tasks:start --> and <!-- bench:tasks:end -->
// (see tasks.go and taskinputs.go).
//
// The cache group (-only cache, or its benchmarks cache-noop, cache-touched,
// cache-first-build, cache-restore) measures the up-to-date check and the
// cache: a no-op run of a 1,000-task graph against ninja and go-task's
// checksum method, the rehash after touching every input, what
// fingerprinting and storing add to a first build, and a restore from the
// cache against cp -r. It installs ninja-build and gcc with apt-get and
// go-task with go install when they are missing, and writes its section
// between <!-- bench:cache:start --> and <!-- bench:cache:end --> (see
// cache.go, cacheinputs.go and cachereport.go).
//
// The scaling group (-only scaling, or its benchmarks scaling-chain,
// scaling-fanout, scaling-body) runs the chain, fan-out and empty-body task
// graphs at 1,000, 10,000 and 100,000 tasks (-quick: 100, 1,000, 10,000),
// each size beside an empty script, a script that builds the same Lua
// tables without declaring tasks, and ninja on the same graph, and judges
// whether the cost per task stays flat and what each task adds to the peak
// RSS. It installs ninja-build with apt-get when it is missing, and writes
// its section between <!-- bench:scaling:start --> and
// <!-- bench:scaling:end --> (see scaling.go, scalinginputs.go and
// scalingreport.go). Every binary is built with CGO_ENABLED=0.
//
// A hazlua variant that fails to build or run does not stop the run: its cell
// in the report reads "error: ..." and the anchors are still measured.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// config is everything the command line decides.
type config struct {
	rounds  int
	only    map[string]bool // empty: every benchmark
	out     string          // absolute path of the report file, "" to skip writing
	quick   bool
	hazlua  string // a prebuilt hazlua to measure instead of building one
	command string // the command line as the user would type it, for the report
	sizes   sizes
}

func parseFlags() (config, error) {
	var (
		cfg   config
		only  string
		out   string
		quick bool
	)
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds per benchmark (-quick: 3 unless given); each round runs every variant once, alternating")
	flag.StringVar(&only, "only", "", "comma-separated benchmarks or groups to run (groups: core, tasks, cache, scaling; benchmarks: "+strings.Join(benchmarkNames, ", ")+")")
	flag.StringVar(&out, "out", "docs/BENCHMARKS.md", "Markdown file to update (relative to the module root); \"\" or \"-\": print only")
	flag.BoolVar(&quick, "quick", false, "smaller sizes and fewer repetitions, to check the harness")
	flag.StringVar(&cfg.hazlua, "hazlua", "", "measure this hazlua binary instead of building one with `go build .`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}
	if cfg.rounds < 1 {
		return cfg, fmt.Errorf("-rounds must be at least 1")
	}
	cfg.quick = quick
	cfg.sizes = fullSizes
	if quick {
		cfg.sizes = quickSizes
		if !flagSet("rounds") {
			cfg.rounds = 3
		}
	}
	selected, err := parseOnly(only)
	if err != nil {
		return cfg, err
	}
	cfg.only = selected
	if out != "" && out != "-" {
		cfg.out = out
	}
	cfg.command = commandLine()
	return cfg, nil
}

// parseOnly turns -only's list of benchmarks and groups into the set of
// benchmarks to run; empty means every one.
func parseOnly(only string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if members, ok := groups[name]; ok {
			for _, m := range members {
				set[m] = true
			}
			continue
		}
		if !isBenchmark(name) {
			return nil, fmt.Errorf("-only: unknown benchmark %q (have groups core, tasks, cache, scaling and benchmarks %s)", name, strings.Join(benchmarkNames, ", "))
		}
		set[name] = true
	}
	return set, nil
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// commandLine renders this invocation as `go run ./bench ARGS`.
func commandLine() string {
	parts := []string{"go run ./bench"}
	for _, a := range os.Args[1:] {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// selected reports whether the benchmark called name runs.
func (cfg config) selected(name string) bool { return len(cfg.only) == 0 || cfg.only[name] }

// anySelected reports whether any benchmark of names runs.
func (cfg config) anySelected(names []string) bool {
	for _, n := range names {
		if cfg.selected(n) {
			return true
		}
	}
	return false
}

func run(cfg config) error {
	root, err := findModuleRoot()
	if err != nil {
		return err
	}
	if cfg.out != "" && !filepath.IsAbs(cfg.out) {
		cfg.out = filepath.Join(root, cfg.out)
	}
	core, tasks, cache := cfg.anySelected(coreNames), cfg.anySelected(taskNames), cfg.anySelected(cacheNames)
	scaling := cfg.anySelected(scalingNames)
	tools := ensureTools(core, tasks, cache, scaling)

	tmp, err := os.MkdirTemp("", "hazlua-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bins, err := buildBinaries(root, tmp, cfg.hazlua)
	if err != nil {
		return err
	}
	m := machineInfo(tools)

	// Each group renders and writes its own section, so that -only of one
	// group leaves the other's section of the file as it was.
	type section struct {
		mk     markers
		report string
	}
	var sections []section
	if core {
		scripts, err := writeScripts(tmp, cfg.sizes)
		if err != nil {
			return err
		}
		var results []benchResult
		for _, b := range benchmarks(bins, scripts, cfg.sizes) {
			if cfg.selected(b.name) {
				results = append(results, runBenchmark(b, cfg, tools, tmp))
			}
		}
		sections = append(sections, section{coreMarkers, renderReport(cfg, m, results)})
	}
	if tasks {
		in, err := writeTaskInputs(filepath.Join(tmp, "tasks"), cfg.sizes)
		if err != nil {
			return err
		}
		var results []benchResult
		for _, b := range taskBenchmarks(bins, tools, in, cfg.sizes) {
			if cfg.selected(b.name) {
				results = append(results, runBenchmark(b, cfg, tools, in.root))
			}
		}
		sections = append(sections, section{tasksMarkers, renderTasksReport(cfg, m, bins, sourceState(root), results)})
	}
	if cache {
		start := time.Now()
		results, err := runCacheGroup(cfg, root, filepath.Join(tmp, "cache"), bins, tools)
		if err != nil {
			return err
		}
		sections = append(sections, section{cacheMarkers, renderCacheReport(cfg, m, bins, sourceState(root), results, time.Since(start))})
	}
	if scaling {
		start := time.Now()
		results, err := runScalingGroup(cfg, filepath.Join(tmp, "scaling"), bins, tools)
		if err != nil {
			return err
		}
		sections = append(sections, section{scalingMarkers, renderScalingReport(cfg, m, bins, sourceState(root), results, time.Since(start))})
	}

	for _, s := range sections {
		fmt.Println()
		fmt.Print(s.report)
	}
	if cfg.out == "" {
		return nil
	}
	for _, s := range sections {
		if err := writeSection(cfg.out, s.mk, s.report); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", cfg.out)
	return nil
}
