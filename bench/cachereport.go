package main

import (
	"fmt"
	"strings"
	"time"
)

// Targets of the cache group.
const (
	targetCacheNoopNinja  = 1.5      // cache-noop: hazlua ≤ 1.5× ninja's no-op
	targetCacheGoTask     = 20.0     // cache-noop: hazlua ≥ 20× faster than go-task's checksum no-op
	targetCacheRSS        = 50 * mib // cache-noop: hazlua's peak RSS
	targetCacheTouched    = 2.0      // cache-touched: hazlua ≤ 2× ninja's no-op
	targetCacheFirstBuild = 1.05     // cache-first-build: default ≤ 1.05× the no-inputs script
	targetCacheRestore    = 1.5      // cache-restore: hazlua ≤ 1.5× cp -r
)

// cacheFigure is a variant's "median (min …)", with its task count when it ran
// at another size than full (0: never).
func cacheFigure(r *variantResult, full int) string {
	if r != nil && full == 0 {
		full = r.tasks
	}
	return timeFigure(r, full)
}

// withLoop appends the loop script's part of a cell when there is one.
func withLoop(main, loop string) string {
	if loop == "" {
		return main
	}
	return main + "<br>loop script: " + loop
}

// evaluateCache makes the summary rows of one cache-group benchmark.
func evaluateCache(br benchResult, sz sizes) []taskRow {
	hz, loop := find(br, keyHazlua), find(br, keyHazluaLoop)
	notMeasured := func(row taskRow, why string) taskRow {
		row.ratio, row.verdict = "n/a", "not measured ("+why+")"
		return row
	}
	graph := fmt.Sprintf("%d tasks × %d inputs of %s", sz.cacheTasks, sz.cacheInputs, humanBytes(int64(sz.cacheInputBytes)))
	// ratioRow fills ratio and verdict of row from hazlua (and the loop
	// script) over anchor, against a ceiling.
	ratioRow := func(row taskRow, anchor *variantResult, anchorName string, ceiling float64) taskRow {
		r, ok := ratioOf(hz, anchor)
		if !ok {
			return notMeasured(row, "hazlua or "+anchorName+" failed")
		}
		row.ratio = fmt.Sprintf("%.2f× %s", r, anchorName)
		row.verdict = metOrMissed(r <= ceiling)
		if rl, ok := ratioOf(loop, anchor); ok {
			row.ratio += fmt.Sprintf("<br>loop script: %.2f× %s", rl, anchorName)
			row.verdict += "<br>loop script: " + metOrMissed(rl <= ceiling)
		}
		return row
	}
	n := sz.cacheTasks
	loopFig := func() string {
		if loop == nil {
			return ""
		}
		return cacheFigure(loop, n)
	}
	switch br.bench.name {
	case "cache-noop":
		ninja, gt := find(br, keyNinja), find(br, keyGoTask)
		hazCell := withLoop(cacheFigure(hz, n), loopFig())

		vsNinja := taskRow{name: "cache-noop vs ninja (" + graph + ", nothing changed)", anchors: "ninja: " + cacheFigure(ninja, n), hazlua: hazCell,
			target: fmt.Sprintf("≤ %.2f× ninja", targetCacheNoopNinja)}
		vsNinja = ratioRow(vsNinja, ninja, "ninja", targetCacheNoopNinja)

		vsGoTask := taskRow{name: "cache-noop vs go-task (" + graph + ", nothing changed)", anchors: "go-task (checksum): " + cacheFigure(gt, n), hazlua: hazCell,
			target: fmt.Sprintf("≥ %.0f× faster than go-task", targetCacheGoTask)}
		if s, per, ok := speedup(gt, hz); ok {
			vsGoTask.ratio = fmt.Sprintf("%.1f× faster", s)
			if per {
				vsGoTask.ratio += fmt.Sprintf(" (per task: go-task ran at %d tasks)", gt.tasks)
			}
			vsGoTask.verdict = metOrMissed(s >= targetCacheGoTask)
			if sl, _, ok := speedup(gt, loop); ok {
				vsGoTask.ratio += fmt.Sprintf("<br>loop script: %.1f× faster", sl)
				vsGoTask.verdict += "<br>loop script: " + metOrMissed(sl >= targetCacheGoTask)
			}
		} else {
			vsGoTask = notMeasured(vsGoTask, "hazlua or go-task failed")
		}
		return []taskRow{vsNinja, vsGoTask, cacheRSSRow(br, sz)}

	case "cache-touched":
		ninja, touched := find(br, keyNinja), find(br, keyNinjaTouched)
		row := taskRow{name: "cache-touched (" + graph + ", every input touched: same contents, new mtime)",
			anchors: "ninja no-op: " + cacheFigure(ninja, n) + fmt.Sprintf("<br>ninja after the touch (rebuilds all %d outputs; information): ", n) + cacheFigure(touched, n),
			hazlua:  withLoop(cacheFigure(hz, n), loopFig()),
			target:  fmt.Sprintf("≤ %.2f× ninja's no-op", targetCacheTouched)}
		return []taskRow{ratioRow(row, ninja, "ninja no-op", targetCacheTouched)}

	case "cache-first-build":
		var rows []taskRow
		for _, p := range []struct{ prefix, name string }{
			{projCProject, "cache-first-build: examples/cproject (`build`)"},
			{projCGen, fmt.Sprintf("cache-first-build: %d generated C files", sz.cacheCFiles)},
		} {
			def, noCache, noIn := find(br, p.prefix+keyFirstDefault), find(br, p.prefix+keyFirstNoCache), find(br, p.prefix+keyFirstNoInputs)
			if def == nil && noCache == nil && noIn == nil {
				continue
			}
			row := taskRow{name: p.name,
				anchors: "no inputs (no fingerprint, record or store): " + cacheFigure(noIn, 0) + "<br>--no-cache: " + cacheFigure(noCache, 0),
				hazlua:  "default: " + cacheFigure(def, 0),
				target:  fmt.Sprintf("default ≤ %.2f× the no-inputs script", targetCacheFirstBuild)}
			r, ok := ratioOf(def, noIn)
			if !ok {
				rows = append(rows, notMeasured(row, "a hazlua variant failed"))
				continue
			}
			row.ratio = fmt.Sprintf("%.3f× no inputs", r)
			if rc, ok := ratioOf(def, noCache); ok {
				row.ratio += fmt.Sprintf(", %.3f× --no-cache", rc)
			}
			if rn, ok := ratioOf(noCache, noIn); ok {
				row.ratio += fmt.Sprintf("<br>--no-cache: %.3f× no inputs", rn)
			}
			row.verdict = metOrMissed(r <= targetCacheFirstBuild)
			rows = append(rows, row)
		}
		return rows

	case "remote":
		var rows []taskRow
		for _, p := range []struct{ prefix, name string }{
			{projCProject, "remote: examples/cproject (`build`)"},
			{projCGen, fmt.Sprintf("remote: %d generated C files", sz.cacheCFiles)},
		} {
			run, restore := find(br, p.prefix+keyRemoteRun), find(br, p.prefix+keyRemoteRestore)
			if run == nil && restore == nil {
				continue
			}
			row := taskRow{name: p.name + ", clean tree",
				anchors: "run (no remote cache): " + cacheFigure(run, 0),
				hazlua:  "restored from nginx on loopback: " + cacheFigure(restore, 0),
				target:  "faster than running (information)"}
			r, ok := ratioOf(restore, run)
			if !ok {
				rows = append(rows, notMeasured(row, "a hazlua variant failed"))
				continue
			}
			row.ratio = fmt.Sprintf("%.2f× run", r)
			row.verdict = metOrMissed(r < 1)
			rows = append(rows, row)
		}
		return rows

	case "cache-restore":
		dir, cp, cpSync := find(br, keyRestoreDir), find(br, keyCp), find(br, keyCpSync)
		files := sz.cacheRestoreFiles
		row := taskRow{name: fmt.Sprintf("cache-restore (%d outputs of %s deleted, restored)", files, humanBytes(int64(sz.cacheRestoreBytes))),
			anchors: "cp -r: " + cacheFigure(cp, 0) + "<br>cp -r + sync -f (information): " + cacheFigure(cpSync, 0),
			hazlua:  fmt.Sprintf("%d tasks, a file each: ", files) + cacheFigure(hz, 0) + "<br>one task, one directory output (information): " + cacheFigure(dir, 0),
			target:  fmt.Sprintf("≤ %.2f× cp -r", targetCacheRestore)}
		r, ok := ratioOf(hz, cp)
		if !ok {
			return []taskRow{notMeasured(row, "hazlua or cp failed")}
		}
		row.ratio = fmt.Sprintf("%.2f× cp -r", r)
		if rs, ok := ratioOf(hz, cpSync); ok {
			row.ratio += fmt.Sprintf(" (%.2f× cp -r + sync -f)", rs)
		}
		if rd, ok := ratioOf(dir, cp); ok {
			row.ratio += fmt.Sprintf("<br>directory: %.2f× cp -r", rd)
			if rds, ok := ratioOf(dir, cpSync); ok {
				row.ratio += fmt.Sprintf(" (%.2f× cp -r + sync -f)", rds)
			}
		}
		row.verdict = metOrMissed(r <= targetCacheRestore)
		return []taskRow{row}
	}
	return nil
}

// speedup is slow's median over fast's, per task when they ran at
// different sizes (then per is true).
func speedup(slow, fast *variantResult) (s float64, per bool, ok bool) {
	if slow == nil || fast == nil || !slow.ok() || !fast.ok() || fast.median() <= 0 {
		return 0, false, false
	}
	if slow.tasks == fast.tasks || slow.tasks == 0 || fast.tasks == 0 {
		return float64(slow.median()) / float64(fast.median()), false, true
	}
	perSlow := float64(slow.median()) / float64(slow.tasks)
	perFast := float64(fast.median()) / float64(fast.tasks)
	return perSlow / perFast, true, true
}

// cacheRSSRow is the peak-RSS row of cache-noop.
func cacheRSSRow(br benchResult, sz sizes) taskRow {
	hz, loop := find(br, keyHazlua), find(br, keyHazluaLoop)
	rss := func(r *variantResult) string {
		if r == nil || !r.ok() || len(r.rss) == 0 {
			return "n/a"
		}
		return humanBytes(r.medianRSS())
	}
	row := taskRow{name: fmt.Sprintf("peak RSS (cache-noop: %d tasks × %d inputs)", sz.cacheTasks, sz.cacheInputs),
		anchors: "ninja: " + rss(find(br, keyNinja)) + "<br>go-task (checksum): " + rss(find(br, keyGoTask)),
		hazlua:  withLoop(rss(hz), rss(loop))}
	row.rssVerdict(hz, loop, targetCacheRSS)
	return row
}

// renderCacheReport renders the cache section of the report file.
func renderCacheReport(cfg config, m machine, bins binaries, source string, results []benchResult, took time.Duration) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	writeHeader(w, "Cache benchmarks: up to date, rehash, first build and restore", cfg, m)
	build := "`CGO_ENABLED=0 go build .`"
	if bins.prebuilt {
		build = "prebuilt, given with `-hazlua`"
	}
	w("| hazlua binary | %s, %s |\n", build, cell(linkage(bins.hazlua)))
	if !bins.prebuilt {
		w("| hazlua source | %s |\n", cell(source))
	}
	for _, name := range []string{"ninja", "go-task", "cc", "cp"} {
		if v := m.versions[name]; v != "" {
			w("| %s | %s |\n", name, cell(v))
		}
	}
	w("| date | %s (the group took %s) |\n\n", m.date, took.Round(time.Second))

	w("Method: each benchmark's inputs are generated into a temporary directory, each tool (and each hazlua script) with its own copy, and the tools are pointed at it with `-C DIR` (`-d DIR` for go-task), as the commands below show; hazlua's state and cache (`.haz`) live in each copy. ")
	w("Every hazlua run gets `%s` (raw task output, no progress or summary) and the default `-j` (= nproc = %d); ninja gets `--quiet`, go-task `--silent`; their stdout and stderr go to a pipe the harness drains. ", strings.Join(hazluaTaskFlags, " "), m.nproc)
	w("A benchmark is prepared first (first builds, then checks that each tool is in the state the benchmark assumes: see Details). ")
	w("Then every round runs each variant once, alternating (the first variant rotates from round to round), after one untimed warm-up run of each; what a variant needs before a run (touching inputs, deleting outputs, a clean tree) is done before the run and outside the timed region, and what it must have done is checked after, also untimed; a failed check fails the variant. ")
	w("Figures are medians over rounds of wall time from fork to reaping, \"min\" the fastest run, peak RSS `ru_maxrss` from wait4 (it includes reaped children; the harness resets its own peak before each run, and `/bin/true` reads %s, the floor of that column). ", rssFloor())
	if cfg.sizes.cacheGoTaskFallback < cfg.sizes.cacheTasks {
		w("go-task is first tried once at %d tasks and measured at %d tasks instead if that no-op takes more than %s (then its comparison is per task). ", cfg.sizes.cacheTasks, cfg.sizes.cacheGoTaskFallback, formatDuration(cfg.sizes.cacheGoTaskSlow))
	}
	w("The machine is shared with other work, and these runs read and write files, so expect more than a few percent of noise.\n\n")

	writeTaskSections(w, results, "ratio", func(br benchResult) []taskRow { return evaluateCache(br, cfg.sizes) })
	return b.String()
}
