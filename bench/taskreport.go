package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Targets of the tasks group.
const (
	targetNinjaLines = 2.0                   // chain, fan-out: build.lua (one task per line) ≤ 2× ninja
	targetNinjaLoop  = 1.0                   // chain, fan-out: loop.lua ≤ 1× ninja
	targetBodyPer    = 10 * time.Microsecond // per empty body, over the same declarations without run (both scripts)
	targetSpawnRatio = 1.05                  // hazlua -j2 ≤ 1.05× make -j2
	targetRSS        = 100 * mib             // peak RSS at the body benchmark
)

// taskRow is one row of the tasks summary.
type taskRow struct {
	name, anchors, hazlua, ratio, target, verdict string
}

// find returns the variant of br with key, or nil.
func find(br benchResult, key string) *variantResult {
	for _, r := range br.results {
		if r.key == key {
			return r
		}
	}
	return nil
}

// timeFigure is "median (min …)", prefixed with the task count when the
// variant ran at another size than the benchmark's.
func timeFigure(r *variantResult, full int) string {
	if r == nil {
		return "not run"
	}
	if r.err != "" {
		return r.err
	}
	if !r.ok() {
		return "not run"
	}
	s := fmt.Sprintf("%s (min %s)", formatDuration(r.median()), formatDuration(r.fastest))
	if r.tasks != full {
		s += fmt.Sprintf(" at %d tasks", r.tasks)
	}
	return s
}

// perTask is (a − b) / a.tasks of the medians, in µs, or "" when either is
// missing.
func perTask(a, b *variantResult) (time.Duration, bool) {
	if a == nil || b == nil || !a.ok() || !b.ok() || a.tasks == 0 {
		return 0, false
	}
	return (a.median() - b.median()) / time.Duration(a.tasks), true
}

func ratioOf(a, b *variantResult) (float64, bool) {
	if a == nil || b == nil || !a.ok() || !b.ok() || b.median() <= 0 {
		return 0, false
	}
	return float64(a.median()) / float64(b.median()), true
}

func metOrMissed(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// evaluateTasks makes the summary rows of one tasks-group benchmark (two for
// task-body: the per-task overhead and the peak RSS).
func evaluateTasks(br benchResult, sz sizes) []taskRow {
	hz, loop := find(br, keyHazlua), find(br, keyHazluaLoop)
	switch br.bench.name {
	case "task-chain", "task-fanout":
		n := sz.tasks
		ninja, mk, gt := find(br, keyNinja), find(br, keyMake), find(br, keyGoTask)
		row := taskRow{name: fmt.Sprintf("%s (%d tasks, no bodies)", br.bench.name, n)}
		row.anchors = strings.Join([]string{
			"ninja: " + timeFigure(ninja, n),
			"make: " + timeFigure(mk, n),
			"go-task: " + timeFigure(gt, n),
		}, "<br>")
		row.hazlua = timeFigure(hz, n) + "<br>loop script: " + timeFigure(loop, n)
		row.target = fmt.Sprintf("build.lua: ≤ %.2f× ninja<br>loop script: ≤ %.2f× ninja", targetNinjaLines, targetNinjaLoop)
		// Each script has its own target and verdict.
		form := func(r *variantResult, target float64) (ratio, verdict string) {
			x, ok := ratioOf(r, ninja)
			if !ok {
				return "n/a", "not measured (hazlua or ninja failed)"
			}
			ratio = fmt.Sprintf("%.2f× ninja", x)
			if xm, ok := ratioOf(r, mk); ok {
				ratio += fmt.Sprintf(", %.2f× make", xm)
			}
			return ratio, metOrMissed(x <= target)
		}
		lr, lv := form(hz, targetNinjaLines)
		pr, pv := form(loop, targetNinjaLoop)
		row.ratio = "build.lua: " + lr + "<br>loop script: " + pr
		row.verdict = "build.lua: " + lv + "<br>loop script: " + pv
		return []taskRow{row}

	case "task-body":
		n := sz.tasks
		noRun, noRunLoop, empty := find(br, keyNoRun), find(br, keyNoRunLoop), find(br, keyEmpty)
		gt, gtNone := find(br, keyGoTask), find(br, keyGoTaskNone)
		row := taskRow{name: fmt.Sprintf("task-body (%d empty bodies, fan-out)", n)}
		anchors := []string{
			"hazlua no run: " + timeFigure(noRun, n),
			"hazlua no run, loop script: " + timeFigure(noRunLoop, n),
			"hazlua empty script: " + timeFigure(empty, 0),
			"go-task fan-out: " + timeFigure(gt, n),
			"go-task one empty task: " + timeFigure(gtNone, 0),
		}
		if d, ok := perTask(gt, gtNone); ok {
			anchors = append(anchors, fmt.Sprintf("go-task per task over its empty run: %s (at %d tasks)", formatDuration(d), gt.tasks))
		}
		row.anchors = strings.Join(anchors, "<br>")
		row.hazlua = "bodies: " + timeFigure(hz, n) + "<br>loop script, bodies: " + timeFigure(loop, n)
		row.target = fmt.Sprintf("≤ %s per task over the same declarations without run, for build.lua and for the loop script", formatDuration(targetBodyPer))
		// Each script is judged against its own declarations without run.
		form := func(bodies, decls *variantResult) (ratio, verdict string) {
			d, ok := perTask(bodies, decls)
			if !ok {
				return "n/a", "not measured (a hazlua variant failed)"
			}
			ratio = fmt.Sprintf("%s per task over no run", formatDuration(d))
			if e, ok := perTask(bodies, empty); ok {
				ratio += fmt.Sprintf(" (%s over an empty script)", formatDuration(e))
			}
			return ratio, metOrMissed(d <= targetBodyPer)
		}
		lr, lv := form(hz, noRun)
		pr, pv := form(loop, noRunLoop)
		row.ratio = "build.lua: " + lr + "<br>loop script: " + pr
		row.verdict = "build.lua: " + lv + "<br>loop script: " + pv
		return []taskRow{row, rssRow(br, sz)}

	case "task-spawn":
		m := sz.taskSpawns
		mk, ninja := find(br, keyMake), find(br, keyNinja)
		row := taskRow{name: fmt.Sprintf("task-spawn (%d × /bin/true, -j2)", m)}
		row.anchors = "make -j2: " + timeFigure(mk, m) + "<br>ninja -j2: " + timeFigure(ninja, m)
		row.hazlua = timeFigure(hz, m) + "<br>loop script: " + timeFigure(loop, m)
		row.target = fmt.Sprintf("≤ %.2f× make -j2, for build.lua and for the loop script", targetSpawnRatio)
		form := func(r *variantResult) (ratio, verdict string) {
			x, ok := ratioOf(r, mk)
			if !ok {
				return "n/a", "not measured (hazlua or make failed)"
			}
			ratio = fmt.Sprintf("%.2f× make", x)
			if xn, ok := ratioOf(r, ninja); ok {
				ratio += fmt.Sprintf(", %.2f× ninja", xn)
			}
			return ratio, metOrMissed(x <= targetSpawnRatio)
		}
		lr, lv := form(hz)
		pr, pv := form(loop)
		row.ratio = "build.lua: " + lr + "<br>loop script: " + pr
		row.verdict = "build.lua: " + lv + "<br>loop script: " + pv
		return []taskRow{row}
	}
	return nil
}

// rssRow is the peak-RSS row, from the task-body runs.
func rssRow(br benchResult, sz sizes) taskRow {
	hz, loop := find(br, keyHazlua), find(br, keyHazluaLoop)
	rss := func(r *variantResult) string {
		if r == nil || !r.ok() || len(r.rss) == 0 {
			return "n/a"
		}
		return humanBytes(r.medianRSS())
	}
	row := taskRow{name: fmt.Sprintf("peak RSS (task-body: %d empty bodies, fan-out)", sz.tasks)}
	row.anchors = strings.Join([]string{
		"hazlua no run: " + rss(find(br, keyNoRun)),
		"hazlua empty script: " + rss(find(br, keyEmpty)),
		"go-task fan-out: " + rss(find(br, keyGoTask)),
	}, "<br>")
	row.hazlua = rss(hz) + "<br>loop script: " + rss(loop)
	row.rssVerdict(hz, loop, targetRSS)
	return row
}

// rssVerdict fills in the target, ratio and verdict of a peak-RSS row: hz's
// (and the loop script's) median peak RSS against target.
func (row *taskRow) rssVerdict(hz, loop *variantResult, target int64) {
	row.target = "≤ " + humanBytes(target)
	if hz == nil || !hz.ok() {
		row.ratio, row.verdict = "n/a", "not measured (hazlua failed)"
		return
	}
	row.ratio = fmt.Sprintf("%.2f× target", float64(hz.medianRSS())/float64(target))
	row.verdict = metOrMissed(hz.medianRSS() <= target)
	if loop != nil && loop.ok() {
		row.ratio += fmt.Sprintf("<br>loop script: %.2f× target", float64(loop.medianRSS())/float64(target))
		row.verdict += "<br>loop script: " + metOrMissed(loop.medianRSS() <= target)
	}
}

// renderTasksReport renders the tasks section of the report file.
func renderTasksReport(cfg config, m machine, bins binaries, source string, results []benchResult) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	writeHeader(w, "Task benchmarks: hazlua vs ninja, make, go-task", cfg, m)
	build := "`CGO_ENABLED=0 go build .`"
	if bins.prebuilt {
		build = "prebuilt, given with `-hazlua`"
	}
	w("| hazlua binary | %s, %s |\n", build, cell(linkage(bins.hazlua)))
	if !bins.prebuilt {
		w("| hazlua source | %s |\n", cell(source))
	}
	for _, name := range []string{"ninja", "make", "go-task"} {
		if v := m.versions[name]; v != "" {
			w("| %s | %s |\n", name, cell(v))
		}
	}
	w("| date | %s |\n\n", m.date)

	w("Method: each benchmark's inputs are generated into a temporary directory, one directory per benchmark holding the same task graph for every tool (`build.lua`, `build.ninja`, `Makefile`, `Taskfile.yml`); the tools are pointed at it with `-C DIR` (`-d DIR` for go-task), as the commands below show. ")
	w("`build.lua` declares one task per line, as the ninja and make files do; `loop.lua` builds the same graph in a Lua `for` loop, which separates what the size of the script costs (compiling it) from what the task machinery costs. ")
	w("Every hazlua run gets `%s` (raw task output, no progress or summary) and the default `-j` (= nproc = %d) unless `-j2` is shown; ninja gets `--quiet`, make `-s`, go-task `--silent`; their stdout and stderr go to a pipe the harness drains. ", strings.Join(hazluaTaskFlags, " "), m.nproc)
	w("Every round runs each variant of a benchmark once, alternating (the first variant rotates from round to round), after one untimed warm-up run of each; figures are medians over rounds of wall time from fork to reaping, \"min\" the fastest run, peak RSS `ru_maxrss` from wait4 (Linux carries the RSS of the harness's memory, shared until exec, into the child's figure; the harness resets its own peak before each run, and `/bin/true` reads %s, the floor of that column). ", rssFloor())
	w("go-task is first tried once at %d tasks and measured at %d tasks instead if that run takes more than %s. ", cfg.sizes.tasks, cfg.sizes.gotaskFallback, formatDuration(cfg.sizes.gotaskSlow))
	w("Per-task figures are the difference of two medians over the number of tasks. The machine is shared with other work, so expect a few percent of noise.\n\n")

	writeTaskSections(w, results, "ratio / per task", func(br benchResult) []taskRow { return evaluateTasks(br, cfg.sizes) })
	return b.String()
}

// writeTaskSections writes the Summary (one row per taskRow that evaluate
// makes of each result; ratioHeader heads the ratio column) and the Details
// (what each benchmark runs, the notes, and one row per variant) of the
// tasks and cache groups.
func writeTaskSections(w func(string, ...any), results []benchResult, ratioHeader string, evaluate func(benchResult) []taskRow) {
	w("### Summary\n\n")
	w("| benchmark | anchors | hazlua | %s | target | result |\n|---|---|---|---|---|---|\n", ratioHeader)
	for _, br := range results {
		for _, row := range evaluate(br) {
			w("| %s | %s | %s | %s | %s | %s |\n", cell(row.name), cell(row.anchors), cell(row.hazlua), cell(row.ratio), cell(row.target), cell(row.verdict))
		}
	}
	w("\n### Details\n\n")
	for _, br := range results {
		w("- **%s**: %s.\n", br.bench.name, strings.TrimSuffix(br.bench.what, "."))
	}
	for _, br := range results {
		for _, r := range br.results {
			if r.note != "" {
				w("- **%s**, %s: %s.\n", br.bench.name, r.label, r.note)
			}
		}
	}
	w("\n| benchmark | variant | tasks | command | median | min | rounds | peak RSS (median) |\n|---|---|---|---|---|---|---|---|\n")
	for _, br := range results {
		for _, r := range br.results {
			median, fastest, rounds, rss := r.figures()
			tasks := "—"
			if r.tasks > 0 {
				tasks = fmt.Sprint(r.tasks)
			}
			w("| %s | %s | %s | `%s` | %s | %s | %s | %s |\n", br.bench.name, cell(r.label), tasks,
				cell(displayCommand(r.variant)), cell(median), fastest, rounds, rss)
		}
	}
}

// rssFloor is the peak RSS the harness reports for /bin/true.
func rssFloor() string {
	m, err := runOnce(os.TempDir(), []string{"/bin/true"})
	if err != nil || m.maxRSS <= 0 {
		return "n/a"
	}
	return humanBytes(m.maxRSS)
}
