package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The cache group (-only cache, or its benchmarks cache-noop,
// cache-touched, cache-first-build, cache-restore) measures hazlua's
// up-to-date check and its cache: a no-op run against ninja's and
// go-task's, the rehash after a touch, what fingerprinting and storing
// add to a first build, and a restore against cp -r. Unlike the tasks
// group, a run here depends on the state the previous run left, so the
// variants carry before/after hooks (run untimed around each measured
// run) and every benchmark is prepared (built, then checked) before its
// rounds. See cacheinputs.go for the files.

// Variant keys of the cache group (variant.key), used by evaluateCache.
// cache-noop and cache-touched use keyHazlua, keyHazluaLoop, keyNinja and
// keyGoTask of the tasks group too.
const (
	keyNinjaTouched   = "ninja-touched"
	keyFirstDefault   = "default"
	keyFirstNoCache   = "no-cache"
	keyFirstNoInputs  = "no-inputs"
	keyRestoreDir     = "hazlua-dir"
	keyCp             = "cp"
	keyCpSync         = "cp-sync"
	projCProject      = "cproject/"
	projCGen          = "cgen/"
	noInputsScript    = "build-noinputs.lua"
	cacheOutputOffset = 30 * time.Second // outputs' mtime after the setup: the inputs' + this
)

// cacheSetup holds the generated inputs of the cache group and what their
// preparation found. Paths are absolute; variants run in root.
type cacheSetup struct {
	root  string
	repo  string // the module root, to copy examples/ from
	bins  binaries
	tools toolSet
	sz    sizes
	t0    time.Time // the inputs' mtime: an hour before the run started

	graphs map[string]*graphDir // cache-noop graph directories, by kind

	cleanups []func() // run when the group ends (the remote benchmark's server)
}

// graphDir is one tool's copy of the cache-noop graph, built once.
type graphDir struct {
	dir   string
	tasks int
	err   error // the build or its check failed: the variant is an error
}

// Kinds of graph directory.
const (
	graphHaz          = "haz"
	graphLoop         = "loop"
	graphNinja        = "ninja"
	graphNinjaTouched = "ninja-touched"
	graphGoTask       = "gotask"
)

// runCacheGroup prepares and runs the selected benchmarks of the cache
// group, in order, in dir.
func runCacheGroup(cfg config, repo, dir string, bins binaries, tools toolSet) ([]benchResult, error) {
	c := &cacheSetup{root: dir, repo: repo, bins: bins, tools: tools, sz: cfg.sizes,
		t0: time.Now().Add(-time.Hour).Truncate(time.Second), graphs: map[string]*graphDir{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range c.cleanups {
			f()
		}
	}()
	var results []benchResult
	for _, name := range cacheNames {
		if !cfg.selected(name) {
			continue
		}
		progress("bench: %s: preparing", name)
		b, err := c.benchmark(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		syncfs(c.root) // the setup's writes are not flushed during the timed runs
		results = append(results, runBenchmark(b, cfg, tools, c.root))
	}
	return results, nil
}

func (c *cacheSetup) benchmark(name string) (benchmark, error) {
	switch name {
	case "cache-noop":
		return c.noop()
	case "cache-touched":
		return c.touched()
	case "cache-first-build":
		return c.firstBuild()
	case "cache-restore":
		return c.restore()
	case "remote":
		return c.remote()
	}
	return benchmark{}, fmt.Errorf("unknown cache benchmark %q", name)
}

// rel is dir relative to the group's root, for -C and -d.
func (c *cacheSetup) rel(dir string) string {
	r, err := filepath.Rel(c.root, dir)
	if err != nil {
		return dir
	}
	return r
}

// hazArgv is a hazlua run in dir: -C dir, extra flags, -o raw -q, the
// script and the target.
func (c *cacheSetup) hazArgv(dir string, extra []string, script, target string) []string {
	argv := append([]string{c.bins.hazlua, "-C", c.rel(dir)}, extra...)
	argv = append(argv, hazluaTaskFlags...)
	return append(argv, script, target)
}

func (c *cacheSetup) hazVariant(key, label, dir, script, target string, tasks int, extra ...string) variant {
	return variant{key: key, label: label, argv: c.hazArgv(dir, extra, script, target), hazlua: true, preErr: c.bins.hazluaErr, tasks: tasks}
}

func missingTool(path, what string) string {
	if path == "" {
		return "error: " + what + " is not installed"
	}
	return ""
}

// --- cache-noop and cache-touched -----------------------------------------

// graph returns the directory of kind, writing its inputs and building it
// the first time: hazlua twice (the second run sees the outputs with
// their mtimes set back, so the stat index is warm and not racily clean),
// the others once. Inputs get mtime t0, outputs t0 + 30 s after the build.
func (c *cacheSetup) graph(kind string, tasks int) *graphDir {
	id := kind
	if tasks != c.sz.cacheTasks {
		id = fmt.Sprintf("%s-%d", kind, tasks)
	}
	if g, ok := c.graphs[id]; ok {
		return g
	}
	g := &graphDir{dir: filepath.Join(c.root, "noop", id), tasks: tasks}
	c.graphs[id] = g
	n, m := tasks, c.sz.cacheInputs
	var files map[string]string
	var builds [][]string
	switch kind {
	case graphHaz, graphLoop:
		script, text := hazScript, luaCacheGraph(n, m)
		if kind == graphLoop {
			script, text = hazLoop, luaCacheGraphLoop(n, m)
		}
		files = map[string]string{script: text}
		run := c.hazArgv(g.dir, nil, script, "all")
		builds = [][]string{run, run}
		if c.bins.hazluaErr != "" {
			g.err = errors.New(strings.TrimPrefix(c.bins.hazluaErr, "error: "))
		}
	case graphNinja, graphNinjaTouched:
		files = map[string]string{"build.ninja": ninjaCacheGraph(n, m)}
		builds = [][]string{{c.tools.ninja, "-C", c.rel(g.dir), "--quiet", "all"}}
		if c.tools.ninja == "" {
			g.err = errors.New("ninja is not installed")
		}
	case graphGoTask:
		files = map[string]string{"Taskfile.yml": goTaskCacheGraph(n, m)}
		builds = [][]string{{c.tools.gotask, "-d", c.rel(g.dir), "--silent", "all"}}
		if c.tools.gotask == "" {
			g.err = errors.New("go-task " + goTaskVersion + " is not installed")
		}
	}
	if err := writeFiles(g.dir, files); err != nil {
		g.err = err
		return g
	}
	if err := writeCacheGraphInputs([]string{g.dir}, n, m, c.sz.cacheInputBytes, c.t0); err != nil {
		g.err = err
		return g
	}
	if g.err != nil {
		return g
	}
	progress("bench: building %s (%d tasks)", c.rel(g.dir), n)
	outputs := under(g.dir, mapN(n, cacheOutput))
	for k, argv := range builds {
		if _, err := runOnce(c.root, argv); err != nil {
			g.err = fmt.Errorf("first build (%s): %v", displayCommand(variant{argv: argv}), err)
			return g
		}
		if k == 0 {
			if err := setMtimes(outputs, c.t0.Add(cacheOutputOffset)); err != nil {
				g.err = err
				return g
			}
		}
	}
	return g
}

// outputsAt checks that every output of the graph in dir still has mtime
// t: a no-op (or a rehash) must not rewrite or restore any.
func outputsAt(dir string, n int, t time.Time) func() error {
	return func() error {
		for i := 1; i <= n; i++ {
			st, err := os.Stat(filepath.Join(dir, cacheOutput(i)))
			if err != nil {
				return err
			}
			if !st.ModTime().Equal(t) {
				return fmt.Errorf("%s was rewritten (mtime %s, want %s): the run was not a no-op", cacheOutput(i), st.ModTime().Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
			}
		}
		return nil
	}
}

// outputsAfter checks that every output of the graph in dir was written
// at or after *t (less the kernel's coarse clock): ninja rebuilt them.
func outputsAfter(dir string, n int, t *time.Time) func() error {
	return func() error {
		for i := 1; i <= n; i++ {
			st, err := os.Stat(filepath.Join(dir, cacheOutput(i)))
			if err != nil {
				return err
			}
			if st.ModTime().Before(t.Add(-50 * time.Millisecond)) {
				return fmt.Errorf("%s was not rebuilt after the touch", cacheOutput(i))
			}
		}
		return nil
	}
}

// checkHazlua runs `hazlua --explain` (or -n) in dir and checks that every
// task with a body is reported with the status want; it fails loudly.
func (c *cacheSetup) checkHazlua(dir, script, target string, flags []string, tasks int, want string) error {
	argv := append([]string{c.bins.hazlua, "-C", c.rel(dir)}, flags...)
	argv = append(argv, "-o", "raw", script, target)
	stdout, stderr, err := runCapture(c.root, argv)
	if err != nil {
		return fmt.Errorf("%s: %v", displayCommand(variant{argv: argv}), err)
	}
	var statuses map[string]string
	if slices.Contains(flags, "-n") {
		statuses = parsePlan(stdout)
	} else {
		statuses = parseExplain(stderr)
	}
	if err := checkStatuses(statuses, tasks, want); err != nil {
		return fmt.Errorf("%s: %v", displayCommand(variant{argv: argv}), err)
	}
	return nil
}

// failCheck marks v as failed by a check, loudly.
func failCheck(bench string, v *variant, err error) {
	v.preErr = "error: check failed: " + err.Error()
	progress("bench: %s: %s: CHECK FAILED: %v", bench, v.label, err)
}

func (c *cacheSetup) noop() (benchmark, error) {
	n, m := c.sz.cacheTasks, c.sz.cacheInputs
	outAt := c.t0.Add(cacheOutputOffset)
	hazV := func(key, label, kind, script string) variant {
		g := c.graph(kind, n)
		v := c.hazVariant(key, label, g.dir, script, "all", n)
		v.after = outputsAt(g.dir, n, outAt)
		if g.err != nil {
			v.preErr = "error: " + g.err.Error()
		} else if err := c.checkHazlua(g.dir, script, "all", []string{"--explain"}, n, "up to date"); err != nil {
			failCheck("cache-noop", &v, err)
		}
		return v
	}
	ninjaV := func() variant {
		g := c.graph(graphNinja, n)
		v := variant{key: keyNinja, label: "ninja", argv: []string{c.tools.ninja, "-C", c.rel(g.dir), "--quiet", "all"}, tasks: n,
			preErr: missingTool(c.tools.ninja, "ninja"), after: outputsAt(g.dir, n, outAt)}
		if v.preErr == "" && g.err != nil {
			v.preErr = "error: " + g.err.Error()
		} else if v.preErr == "" {
			out, _, err := runCapture(c.root, []string{c.tools.ninja, "-C", c.rel(g.dir), "-n", "all"})
			if err == nil && !strings.Contains(out, "no work to do") {
				err = fmt.Errorf("ninja -n: %s", firstLine(out))
			}
			if err != nil {
				failCheck("cache-noop", &v, err)
			}
		}
		return v
	}
	goTaskV := func(tasks int) variant {
		g := c.graph(graphGoTask, tasks)
		label := "go-task (checksum)"
		if tasks != n {
			label = fmt.Sprintf("go-task (checksum, %d tasks)", tasks)
		}
		v := variant{key: keyGoTask, label: label, argv: []string{c.tools.gotask, "-d", c.rel(g.dir), "--silent", "all"}, tasks: tasks,
			preErr: missingTool(c.tools.gotask, "go-task "+goTaskVersion), after: outputsAt(g.dir, tasks, outAt)}
		if v.preErr == "" && g.err != nil {
			v.preErr = "error: " + g.err.Error()
		} else if v.preErr == "" {
			// --dry prints the commands of the tasks that are not up to date.
			out, errOut, err := runCapture(c.root, []string{c.tools.gotask, "-d", c.rel(g.dir), "--dry", "all"})
			if err == nil && strings.Contains(out+errOut, "task: [") {
				err = fmt.Errorf("go-task --dry would run: %s", firstLine(out+errOut))
			}
			if err != nil {
				failCheck("cache-noop", &v, err)
			}
		}
		return v
	}
	gt := goTaskV(n)
	if k := c.sz.cacheGoTaskFallback; k < n && gt.preErr == "" {
		fb := goTaskV(k)
		gt.fallback, gt.slowAfter = &fb, c.sz.cacheGoTaskSlow
	}
	return benchmark{
		name: "cache-noop",
		what: fmt.Sprintf("%d tasks × %d inputs of %s (distinct random contents), each task writing one output, the `cat` of its inputs; nothing changed since the last run, so nothing runs. "+
			"hazlua: `build.lua` declares `haz.task(\"oN\", {inputs = {...}, outputs = {\"out/oN\"}, run = function() haz.run{stdout = {file = \"out/oN\"}, \"cat\", ...} end})` one line per task, `loop.lua` the same graph in a Lua `for` loop, and `all` depends on every task; "+
			"ninja: `build out/oN: cat in/iN_1 … in/iN_%d` (rule `cat $in > $out`), `build all: phony …`; go-task: a task per output with `method: checksum`, its `sources` and `generates` and the same `cat`, `all` with deps on every task. "+
			"Each tool has its own copy of the graph. Before timing, the inputs' mtimes are set an hour back, each tool builds its copy once (hazlua twice), the outputs' mtimes are set to the inputs' + 30 s after the first build (outside hazlua's 2 s racy window), "+
			"and `hazlua --explain` must report every task up to date (`ninja -n`: no work to do; `go-task --dry`: no command); after every timed run, every output must still have that mtime (nothing rewrote or restored it), else the variant fails",
			n, m, humanBytes(int64(c.sz.cacheInputBytes)), m),
		variants: []variant{
			hazV(keyHazlua, "hazlua", graphHaz, hazScript),
			hazV(keyHazluaLoop, "hazlua (loop script)", graphLoop, hazLoop),
			ninjaV(),
			gt,
		},
	}, nil
}

func (c *cacheSetup) touched() (benchmark, error) {
	n, m := c.sz.cacheTasks, c.sz.cacheInputs
	outAt := c.t0.Add(cacheOutputOffset)
	rels := allCacheInputs(n, m)
	// hazlua's copies are touched to t0 + k s, k counting the touches
	// (the check is touch 1), so every run sees a new mtime an hour old.
	hazV := func(key, label, kind, script string) variant {
		g := c.graph(kind, n)
		v := c.hazVariant(key, label, g.dir, script, "all", n)
		inputs := under(g.dir, rels)
		k := 0
		touch := func() error { k++; return setMtimes(inputs, touchTime(c.t0, k)) }
		v.before, v.after = touch, outputsAt(g.dir, n, outAt)
		switch {
		case g.err != nil:
			v.preErr = "error: " + g.err.Error()
		case touch() != nil:
			v.preErr = "error: cannot touch the inputs"
		default:
			if err := c.checkHazlua(g.dir, script, "all", []string{"--explain"}, n, "up to date"); err != nil {
				failCheck("cache-touched", &v, err)
			}
		}
		return v
	}
	ninjaNoop := c.graph(graphNinja, n)
	ninjaTouched := c.graph(graphNinjaTouched, n)
	var touchedAt time.Time
	touchedInputs := under(ninjaTouched.dir, rels)
	nt := variant{key: keyNinjaTouched, label: "ninja after the touch", argv: []string{c.tools.ninja, "-C", c.rel(ninjaTouched.dir), "--quiet", "all"}, tasks: n,
		preErr: missingTool(c.tools.ninja, "ninja"),
		before: func() error { touchedAt = time.Now(); return setMtimes(touchedInputs, touchedAt) },
		after:  outputsAfter(ninjaTouched.dir, n, &touchedAt)}
	nn := variant{key: keyNinja, label: "ninja no-op", argv: []string{c.tools.ninja, "-C", c.rel(ninjaNoop.dir), "--quiet", "all"}, tasks: n,
		preErr: missingTool(c.tools.ninja, "ninja"), after: outputsAt(ninjaNoop.dir, n, outAt)}
	for _, p := range []struct {
		v *variant
		g *graphDir
	}{{&nt, ninjaTouched}, {&nn, ninjaNoop}} {
		if p.v.preErr == "" && p.g.err != nil {
			p.v.preErr = "error: " + p.g.err.Error()
		}
	}
	return benchmark{
		name: "cache-touched",
		what: fmt.Sprintf("the cache-noop graph (%d tasks × %d inputs of %s) after every input was touched: same contents, new mtime. Before each run of hazlua (untimed), every input of its copy gets the mtime t0 + k s, where t0 is an hour before the harness started and k counts the touches, "+
			"so each run sees a new mtime (and ctime) on every input, yet one over an hour old, outside hazlua's 2 s racy window: hazlua must rehash every input and run nothing (after each run every output must still have its old mtime, else the variant fails; before timing, `hazlua --explain` after a touch must report every task up to date). "+
			"ninja no-op: ninja on its untouched copy, the anchor, measured again in these rounds; ninja after the touch (information): before each run every input of a third copy gets the current time as mtime (an older one would not be a change to ninja, whose outputs are newer), and ninja rebuilds all %d outputs (checked)",
			n, m, humanBytes(int64(c.sz.cacheInputBytes)), n),
		variants: []variant{
			hazV(keyHazlua, "hazlua", graphHaz, hazScript),
			hazV(keyHazluaLoop, "hazlua (loop script)", graphLoop, hazLoop),
			nn,
			nt,
		},
	}, nil
}

// touchTime is the mtime of cache-touched's k-th touch of hazlua's inputs.
func touchTime(t0 time.Time, k int) time.Time { return t0.Add(time.Duration(k) * time.Second) }

// --- cache-first-build ------------------------------------------------------

// firstProject is one project of cache-first-build.
type firstProject struct {
	prefix  string   // key prefix: projCProject or projCGen
	label   string   // for labels
	dir     string   // the project root (where the scripts are)
	target  string   // the task run
	clean   []string // removed before each run, relative to dir
	outputs []string // must exist after each run, relative to dir
	tasks   int
	err     error
}

func (c *cacheSetup) firstBuild() (benchmark, error) {
	cproj := c.cprojectCopy("first")
	cgen := c.cgenProject("first")
	var variants []variant
	for _, p := range []*firstProject{cproj, cgen} {
		for _, s := range []struct {
			key, label, script string
			extra              []string
			want               string
		}{
			{keyFirstDefault, "hazlua", hazScript, nil, "up to date"},
			{keyFirstNoCache, "hazlua --no-cache", hazScript, []string{"--no-cache"}, "up to date"},
			{keyFirstNoInputs, "hazlua, no inputs", noInputsScript, nil, "will run (no inputs declared)"},
		} {
			v := c.hazVariant(p.prefix+s.key, p.label+": "+s.label, p.dir, s.script, p.target, p.tasks, s.extra...)
			p, s := p, s
			v.before = func() error {
				for _, r := range p.clean {
					if err := os.RemoveAll(filepath.Join(p.dir, r)); err != nil {
						return err
					}
				}
				syncfs(p.dir)
				return nil
			}
			// After each run, the outputs must be there, and -n must say
			// what the variant left behind: every task up to date
			// (recorded), or, without inputs, every task to run again.
			v.after = func() error {
				for _, o := range p.outputs {
					if _, err := os.Stat(filepath.Join(p.dir, o)); err != nil {
						return err
					}
				}
				return c.checkHazlua(p.dir, s.script, p.target, []string{"-n"}, p.tasks, s.want)
			}
			if v.preErr == "" && p.err != nil {
				v.preErr = "error: " + p.err.Error()
			}
			variants = append(variants, v)
		}
	}
	return benchmark{
		name: "cache-first-build",
		what: fmt.Sprintf("a first build, from a clean tree (before each run, untimed: the build directory and `.haz` removed, then syncfs), of (a) examples/cproject: `hazlua examples/build.lua build` in a copy of examples/ (build.lua and cproject/ only; %d tasks, %s) and "+
			"(b) a generated C project of %d small files (`src/main.c` calling one function in each of `src/f1.c` … `src/f%d.c`): one task per file, `haz.task(\"compile:src/fK.c\", {inputs = {src}, outputs = {obj}, run = ...})` running `cc -O2 -c src -o build/obj/fK.o`, declared in a loop over `haz.glob(\"src/*.c\")`, and one `link` task (`inputs = {}`, `outputs = {\"build/app\"}`) running `cc -o build/app` on every object. "+
			"Variants for each: `hazlua` (fingerprints, finds nothing in the empty cache, runs, records and stores every task), `hazlua --no-cache` (no skip or restore, but records and stores), and `hazlua, no inputs`: the same script with every `inputs = {...}` field removed (build-noinputs.lua), so no task is fingerprinted, recorded or stored: the zero-overhead anchor. "+
			"After each run (untimed) the outputs must exist and `hazlua -n` must report every task up to date (every task to run, for the no-inputs script)",
			cproj.tasks, cproj.note(), c.sz.cacheCFiles, c.sz.cacheCFiles-1),
		variants: variants,
	}, nil
}

func (p *firstProject) note() string {
	if p.err != nil {
		return "error: " + p.err.Error()
	}
	return "with its own `haz.limit(\"cc\", 4)`"
}

// cprojectCopy copies examples/build.lua and examples/cproject (without
// build/) into SUB/examples and writes build-noinputs.lua beside.
func (c *cacheSetup) cprojectCopy(sub string) *firstProject {
	p := &firstProject{prefix: projCProject, label: "cproject", dir: filepath.Join(c.root, sub, "examples"), target: "build",
		clean: []string{"cproject/build", ".haz"}, outputs: []string{"cproject/build/hello", "cproject/build/test_hello"}}
	p.err = func() error {
		src := filepath.Join(c.repo, "examples")
		script, err := os.ReadFile(filepath.Join(src, hazScript))
		if err != nil {
			return err
		}
		stripped, removed := stripInputs(string(script))
		if removed == 0 {
			return errors.New("examples/build.lua declares no inputs")
		}
		if err := writeFiles(p.dir, map[string]string{hazScript: string(script), noInputsScript: stripped}); err != nil {
			return err
		}
		if err := copyTree(filepath.Join(src, "cproject"), filepath.Join(p.dir, "cproject"), "build"); err != nil {
			return err
		}
		if c.bins.hazluaErr != "" {
			return nil
		}
		n, err := c.planSize(p.dir, hazScript, p.target)
		p.tasks = n
		return err
	}()
	return p
}

// cgenProject writes the generated C project into SUB/cgen.
func (c *cacheSetup) cgenProject(sub string) *firstProject {
	n := c.sz.cacheCFiles
	p := &firstProject{prefix: projCGen, label: fmt.Sprintf("%d C files", n), dir: filepath.Join(c.root, sub, "cgen"), target: "link",
		clean: []string{"build", ".haz"}, outputs: []string{"build/app"}, tasks: n + 1}
	files := cSources(n)
	stripped, removed := stripInputs(luaCBuild)
	if removed != 2 {
		p.err = fmt.Errorf("stripInputs removed %d inputs fields from the generated script, want 2", removed)
	}
	files[hazScript], files[noInputsScript] = luaCBuild, stripped
	if err := writeFiles(p.dir, files); err != nil {
		p.err = err
	}
	return p
}

// planSize is the number of tasks with a body that `hazlua -n` plans.
func (c *cacheSetup) planSize(dir, script, target string) (int, error) {
	argv := []string{c.bins.hazlua, "-C", c.rel(dir), "-n", script, target}
	stdout, _, err := runCapture(c.root, argv)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", displayCommand(variant{argv: argv}), err)
	}
	return len(parsePlan(stdout)), nil
}

// --- cache-restore ----------------------------------------------------------

func (c *cacheSetup) restore() (benchmark, error) {
	n, size := c.sz.cacheRestoreFiles, c.sz.cacheRestoreBytes
	if size%restoreSeedBytes != 0 {
		return benchmark{}, fmt.Errorf("cacheRestoreBytes %d is not a multiple of %d", size, restoreSeedBytes)
	}
	reps := size / restoreSeedBytes
	filesDir := filepath.Join(c.root, "restore", "files")
	dirDir := filepath.Join(c.root, "restore", "dir")
	cpDir := filepath.Join(c.root, "restore", "cp")
	for _, d := range []string{filesDir, dirDir} {
		seeds := map[string]string{}
		for i := 1; i <= n; i++ {
			seeds[restoreSeed(i)] = string(randomBytes(uint64(i), restoreSeedBytes))
		}
		if err := writeFiles(d, seeds); err != nil {
			return benchmark{}, err
		}
	}
	if err := writeFiles(filesDir, map[string]string{hazScript: luaRestoreFiles(n, reps)}); err != nil {
		return benchmark{}, err
	}
	if err := writeFiles(dirDir, map[string]string{hazScript: luaRestoreDir(n, reps)}); err != nil {
		return benchmark{}, err
	}
	removeOut := func(dir string) func() error {
		return func() error {
			if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
				return err
			}
			syncfs(dir)
			return nil
		}
	}
	// prepare builds dir once, puts the guard beside it, and checks that
	// with out/ deleted hazlua restores every task.
	prepare := func(v *variant, dir string, tasks int) {
		if v.preErr != "" {
			return
		}
		if _, err := runOnce(c.root, v.argv); err != nil {
			v.preErr = "error: first build: " + err.Error()
			return
		}
		if err := os.WriteFile(filepath.Join(dir, noRunGuard), nil, 0o644); err != nil {
			v.preErr = "error: " + err.Error()
			return
		}
		if err := removeOut(dir)(); err != nil {
			v.preErr = "error: " + err.Error()
			return
		}
		if err := c.checkHazlua(dir, hazScript, "all", []string{"--explain"}, tasks, "will be restored from the cache"); err != nil {
			failCheck("cache-restore", v, err)
		}
	}
	files := c.hazVariant(keyHazlua, fmt.Sprintf("hazlua, %d tasks", n), filesDir, hazScript, "all", n)
	files.before, files.after = removeOut(filesDir), checkTree(filepath.Join(filesDir, "out"), n, int64(size))
	prepare(&files, filesDir, n)
	dir := c.hazVariant(keyRestoreDir, "hazlua, one directory output", dirDir, hazScript, "all", 1)
	dir.before, dir.after = removeOut(dirDir), checkTree(filepath.Join(dirDir, "out"), n, int64(size))
	prepare(&dir, dirDir, 1)

	// cp copies what the per-file build produced, kept aside.
	aside, fresh, freshSync := filepath.Join(cpDir, "aside"), filepath.Join(cpDir, "fresh"), filepath.Join(cpDir, "fresh-sync")
	cpErr := ""
	if files.preErr != "" {
		cpErr = "error: no outputs to copy (the hazlua build failed)"
	} else if err := os.MkdirAll(cpDir, 0o755); err != nil {
		return benchmark{}, err
	} else if _, err := runOnce(c.root, []string{"cp", "-r", c.rel(filepath.Join(filesDir, "out")), c.rel(aside)}); err != nil {
		// the restore check above restored out/
		cpErr = "error: " + err.Error()
	}
	rmFresh := func(d string) func() error {
		return func() error {
			if err := os.RemoveAll(d); err != nil {
				return err
			}
			syncfs(cpDir)
			return nil
		}
	}
	cp := variant{key: keyCp, label: "cp -r", argv: []string{"cp", "-r", c.rel(aside), c.rel(fresh)}, preErr: cpErr,
		before: rmFresh(fresh), after: checkTree(fresh, n, int64(size))}
	cpSync := variant{key: keyCpSync, label: "cp -r + sync -f",
		argv:   []string{"sh", "-c", "cp -r " + shellQuote(c.rel(aside)) + " " + shellQuote(c.rel(freshSync)) + " && sync -f " + shellQuote(c.rel(freshSync))},
		preErr: cpErr, before: rmFresh(freshSync), after: checkTree(freshSync, n, int64(size))}
	return benchmark{
		name: "cache-restore",
		what: fmt.Sprintf("restore %d outputs of %s each (%s) after deleting them. hazlua, %d tasks: one task per output, `haz.task(\"fN\", {inputs = {\"in/sN\"}, outputs = {\"out/fN\"}, run = ...})`, whose body writes its %d-byte input %d times over; "+
			"built once, then before each run (untimed) `out/` is deleted and the filesystem synced (syncfs), and the run restores every output from the cache. "+
			"Each body first fails if a file `%s` exists, which the harness creates after the first build, so a body that runs instead of a restore fails the benchmark; before timing, `hazlua --explain` must report every task \"will be restored from the cache\", and after each run `out/` must hold the %d files of %s. "+
			"hazlua, one directory output (information): one task (`inputs = {\"in/*\"}`, `outputs = {\"out\"}`) writing the same %d files into the directory `out`, restored as one directory. "+
			"cp -r: `cp -r aside fresh`, where `aside` is a copy of the per-file build's `out/` and `fresh` is removed (and the filesystem synced) before each run, untimed. "+
			"cp -r + sync -f (information): the same followed by `sync -f`, since a hazlua restore makes its copies durable (syncfs) before renaming them into place",
			n, humanBytes(int64(size)), humanBytes(int64(n)*int64(size)), n, restoreSeedBytes, reps, noRunGuard, n, humanBytes(int64(size)), n),
		variants: []variant{files, dir, cp, cpSync},
	}, nil
}

// checkTree checks that dir holds n regular files of size bytes each.
func checkTree(dir string, n int, size int64) func() error {
	return func() error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		files := 0
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				return err
			}
			if !info.Mode().IsRegular() || info.Size() != size {
				return fmt.Errorf("%s/%s: not a regular file of %d bytes", filepath.Base(dir), e.Name(), size)
			}
			files++
		}
		if files != n {
			return fmt.Errorf("%s holds %d files, want %d", filepath.Base(dir), files, n)
		}
		return nil
	}
}

// --- helpers ----------------------------------------------------------------

// runCapture runs argv in dir and returns its whole stdout and stderr; a
// failure is an error with the first line of stderr.
func runCapture(dir string, argv []string) (string, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = runError(err, stderr.String(), stdout.String())
	}
	return stdout.String(), stderr.String(), err
}

// parseExplain maps each task of `hazlua --explain` lines
// ("hazlua: explain: NAME: STATUS") to its status.
func parseExplain(stderr string) map[string]string {
	statuses := map[string]string{}
	for _, line := range strings.Split(stderr, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "hazlua: explain: ")
		if !ok {
			continue
		}
		if name, status, ok := strings.Cut(rest, ": "); ok {
			statuses[name] = status
		}
	}
	return statuses
}

// parsePlan maps each task with a body of `hazlua -n` lines
// ("I/N NAME: STATUS") to its status; aggregate tasks are left out.
func parsePlan(stdout string) map[string]string {
	statuses := map[string]string{}
	for _, line := range strings.Split(stdout, "\n") {
		num, rest, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		i, n, ok := strings.Cut(num, "/")
		if _, err := strconv.Atoi(i); err != nil || !ok {
			continue
		}
		if _, err := strconv.Atoi(n); err != nil {
			continue
		}
		name, status, ok := strings.Cut(rest, ": ")
		if !ok || strings.HasPrefix(status, "aggregate") {
			continue
		}
		statuses[name] = status
	}
	return statuses
}

// checkStatuses checks that there are n statuses and that each starts
// with want, naming the first task (by name) that does not.
func checkStatuses(statuses map[string]string, n int, want string) error {
	var bad []string
	for name, status := range statuses {
		if !strings.HasPrefix(status, want) {
			bad = append(bad, name)
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d tasks not %q, e.g. %s: %s", len(bad), len(statuses), want, bad[0], statuses[bad[0]])
	}
	if len(statuses) != n {
		return fmt.Errorf("%d tasks reported, want %d", len(statuses), n)
	}
	return nil
}

// copyTree copies the regular files and directories of src into dst,
// skipping the top-level entries named in skip.
func copyTree(src, dst string, skip ...string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if slices.Contains(skip, rel) || strings.HasPrefix(filepath.Base(path), ".haz") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
		return nil
	})
}

// syncfs flushes the filesystem holding path (best effort), so that the
// writeback of untimed work does not land in a timed run.
func syncfs(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = unix.Syncfs(int(f.Fd()))
}
