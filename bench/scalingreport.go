package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Targets of the scaling group.
const (
	targetScalingStep = 1.5 // per-task time at each size ≤ 1.5× the per-task time at the size before (×10 tasks)
	targetScalingRSS  = kib // RSS per task over the data-only script, at the largest size
)

// scalingForm is one way of declaring a workload, judged on its own: its
// hazlua variant, the data-only variant it is compared with for RSS
// ("" for none) and the fixed-cost variant its time is taken over.
type scalingForm struct {
	label, key, dataKey, emptyKey string
	reference                     bool // ninja: shown, not judged
}

var scalingForms = []scalingForm{
	{label: "build.lua (one task per line)", key: keyHazlua, dataKey: keyData, emptyKey: keyEmpty},
	{label: "loop.lua", key: keyHazluaLoop, dataKey: keyDataLoop, emptyKey: keyEmpty},
	{label: "ninja (phony edges; reference)", key: keyNinja, emptyKey: keyNinjaEmpty, reference: true},
}

// scalingPoint is one form of a workload at one size.
type scalingPoint struct {
	tasks int
	err   string        // the form or its fixed-cost run failed (the error, with who failed); then no figures
	per   time.Duration // time per task: (median − the fixed-cost run's median) / tasks
	// RSS per task, bytes: (median peak RSS − the fixed-cost run's) /
	// tasks, and over the data-only script's (rssDataErr says why not).
	rssOverEmpty, rssOverData float64
	rssDataErr                string
}

// scalingPoints computes form f of res at every size.
func scalingPoints(res scalingResult, f scalingForm) []scalingPoint {
	var ps []scalingPoint
	for _, run := range res.runs {
		p := scalingPoint{tasks: run.tasks}
		hz, empty := find(run.br, f.key), find(run.br, f.emptyKey)
		switch {
		case hz == nil || empty == nil:
			p.err = "not run"
		case !hz.ok():
			p.err = hz.label + ": " + orNotRun(hz.err)
		case !empty.ok():
			p.err = empty.label + ": " + orNotRun(empty.err)
		default:
			p.per = (hz.median() - empty.median()) / time.Duration(run.tasks)
			p.rssOverEmpty = float64(hz.medianRSS()-empty.medianRSS()) / float64(run.tasks)
			data := find(run.br, f.dataKey)
			switch {
			case f.dataKey == "":
				p.rssDataErr = "no data-only script"
			case data == nil || !data.ok():
				p.rssDataErr = "the data-only script failed"
				if data != nil && data.err != "" {
					p.rssDataErr += ": " + data.err
				}
			default:
				p.rssOverData = float64(hz.medianRSS()-data.medianRSS()) / float64(run.tasks)
			}
		}
		ps = append(ps, p)
	}
	return ps
}

func orNotRun(err string) string {
	if err == "" {
		return "not run"
	}
	return err
}

// judgeScaling returns the growth of the per-task time at each step (one
// cell per step) and the verdict on points: flat per-task time (each at
// most targetScalingStep × the one before) and, at the largest size, at
// most targetScalingRSS of RSS per task over the data-only script. A
// failure at any size is the verdict, named with its size.
func judgeScaling(points []scalingPoint) (growth []string, result string) {
	if p, failed := firstFailure(points); failed {
		return nil, fmt.Sprintf("**failed** at %d tasks (%s)", p.tasks, p.err)
	}
	if len(points) == 0 {
		return nil, "not measured (no size ran)"
	}
	var cs []criterion
	unjudged := ""
	for i := 1; i < len(points); i++ {
		a, b := points[i-1], points[i]
		if a.per <= 0 {
			growth = append(growth, fmt.Sprintf("n/a (at %d tasks not above the empty run)", a.tasks))
			if unjudged == "" {
				unjudged = fmt.Sprintf("the per-task time at %d tasks is not above the empty run's", a.tasks)
			}
			continue
		}
		r := float64(b.per) / float64(a.per)
		growth = append(growth, fmt.Sprintf("%.2f× (%d → %d)", r, a.tasks, b.tasks))
		cs = append(cs, criterion{fmt.Sprintf("per-task time %.2f× from %d to %d tasks", r, a.tasks, b.tasks), r <= targetScalingStep})
	}
	last := points[len(points)-1]
	if last.rssDataErr != "" {
		return growth, fmt.Sprintf("not measured (at %d tasks %s)", last.tasks, last.rssDataErr)
	}
	cs = append(cs, criterion{fmt.Sprintf("RSS per task over the data-only script %s at %d tasks", perTaskBytes(last.rssOverData), last.tasks), last.rssOverData <= targetScalingRSS})
	v := verdict(cs...)
	if unjudged != "" && strings.HasPrefix(v, "**met**") {
		return growth, "not measured (" + unjudged + ")"
	}
	return growth, v
}

// perTaskBytes prints a per-task byte count: bytes below 1 KiB, KiB above.
func perTaskBytes(b float64) string {
	if b > -kib && b < kib {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.2f KiB", b/kib)
}

// pointCells are the per-size cells of points: time per task, RSS per task
// over the empty run, RSS per task over the data-only script.
func pointCells(points []scalingPoint) (per, rssEmpty, rssData []string) {
	for _, p := range points {
		if p.err != "" {
			per, rssEmpty, rssData = append(per, "—"), append(rssEmpty, "—"), append(rssData, "—")
			continue
		}
		per = append(per, formatDuration(p.per))
		rssEmpty = append(rssEmpty, perTaskBytes(p.rssOverEmpty))
		if p.rssDataErr != "" {
			rssData = append(rssData, "—")
		} else {
			rssData = append(rssData, perTaskBytes(p.rssOverData))
		}
	}
	return per, rssEmpty, rssData
}

// workloadLabel is a workload's name in the tables: task-chain, ….
func workloadLabel(w scalingWorkload) string { return "task-" + w.dir }

// renderScalingReport renders the scaling section of the report file.
func renderScalingReport(cfg config, m machine, bins binaries, source string, results []scalingResult, took time.Duration) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	sizes := cfg.sizes.scalingTasks
	largest := sizes[len(sizes)-1]

	writeHeader(w, fmt.Sprintf("Scaling benchmarks: cost per task from %s to %s tasks", joinInts(sizes[:1], ""), joinInts(sizes[len(sizes)-1:], "")), cfg, m)
	build := "`CGO_ENABLED=0 go build .`"
	if bins.prebuilt {
		build = "prebuilt, given with `-hazlua`"
	}
	w("| hazlua binary | %s, %s |\n", build, cell(linkage(bins.hazlua)))
	if !bins.prebuilt {
		w("| hazlua source | %s |\n", cell(source))
	}
	if v := m.versions["ninja"]; v != "" {
		w("| ninja | %s |\n", cell(v))
	}
	w("| date | %s (the group took %s) |\n\n", m.date, took.Round(time.Second))

	w("Method: each workload (the chain, fan-out and empty-body graphs of the tasks group) is generated at %s tasks into a temporary directory per workload and size, and each size is a benchmark of its own, smallest first. ", joinInts(sizes, ", "))
	w("Its variants run side by side: hazlua on `build.lua` (one `haz.task` line per task) and on `loop.lua` (the same graph in a Lua `for` loop); two data-only scripts, `data.lua` and `data-loop.lua`, which build the same option tables (`{deps = {...}}`, `{run = function() end}`) the same way, line by line or in the same loop, and keep them in a global list `T` without calling `haz.task` (the task names are not kept; the fan-out's deps list holds them); hazlua on an empty script; ninja on the same graph as phony edges; and ninja on a file with one phony edge. ")
	w("Every hazlua run gets `%s`; ninja gets `--quiet` and runs under `prlimit --stack=%s` (1 GiB): it walks a chain recursively and crashes with the default 8 MiB stack at 100,000 edges. ", strings.Join(hazluaTaskFlags, " "), ninjaStack)
	w("Every round runs each variant once, alternating (the first variant rotates from round to round), after one untimed warm-up run of each; figures are medians over %d rounds of wall time from fork to reaping, \"min\" the fastest run, and peak RSS `ru_maxrss` from wait4 (the harness resets its own peak before each run; `/bin/true` reads %s). ", cfg.rounds, rssFloor())
	w("Time per task is (median − the empty script's median) / tasks (ninja: over its one-edge run); RSS per task is (median peak RSS − the empty script's) / tasks, and over the data-only script of the same form, (median peak RSS − its) / tasks: what the task machinery holds beyond the Lua tables the script builds. ")
	w("A run that takes more than %s is killed and reported as a failure, and that variant is not run at the larger sizes. ", longDuration(cfg.sizes.scalingTimeout))
	w("The machine is shared with other work, so expect a few percent of noise, more in the per-task figures of the smallest size, where the difference of two medians is small.\n\n")

	w("### Summary\n\n")
	w("Target, for each hazlua script: the cost per task is flat (the time per task at each size ≤ %.1f× the time per task at the size before, 10× fewer tasks) and the RSS per task over the data-only script is ≤ %s at %d tasks.\n\n", targetScalingStep, perTaskBytes(targetScalingRSS), largest)
	w("| workload | script | time per task (%s tasks) | growth per ×10 tasks | RSS per task over the empty run (%s tasks) | RSS per task over the data-only script (%s tasks) | result |\n|---|---|---|---|---|---|---|\n",
		joinInts(sizes, " / "), joinInts(sizes, " / "), joinInts(sizes, " / "))
	for _, res := range results {
		for _, f := range scalingForms {
			points := scalingPoints(res, f)
			per, rssEmpty, rssData := pointCells(points)
			growth, v := judgeScaling(points)
			if f.reference {
				v = "reference, not judged"
				if p, failed := firstFailure(points); failed {
					v = fmt.Sprintf("reference; failed at %d tasks (%s)", p.tasks, p.err)
				}
				rssData = nil
			}
			dataCell := strings.Join(rssData, " / ")
			if dataCell == "" {
				dataCell = "—"
			}
			w("| %s | %s | %s | %s | %s | %s | %s |\n", workloadLabel(res.w), cell(f.label), strings.Join(per, " / "), cell(orDash(strings.Join(growth, "<br>"))),
				strings.Join(rssEmpty, " / "), dataCell, cell(v))
		}
	}

	w("\n### Details\n\n")
	for _, res := range results {
		w("- **%s** (%s): N %s.\n", workloadLabel(res.w), res.w.name, strings.TrimSuffix(res.w.what, "."))
	}
	for _, res := range results {
		for _, run := range res.runs {
			for _, r := range run.br.results {
				if r.err != "" && r.hazlua {
					w("- **%s** at %d tasks, %s: %s.\n", workloadLabel(res.w), run.tasks, r.label, r.err)
				}
			}
		}
	}
	w("\n| workload | tasks | variant | command | median | min | time per task | peak RSS (median) | RSS per task over the empty run | RSS per task over the data-only script | rounds |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, res := range results {
		for i, run := range res.runs {
			// The cells per task of each variant at this size: the
			// judged forms', and the data-only scripts' over the empty one.
			perCells := map[string][3]string{}
			for _, f := range append(slices.Clone(scalingForms), scalingForm{key: keyData, emptyKey: keyEmpty}, scalingForm{key: keyDataLoop, emptyKey: keyEmpty}) {
				per, rssEmpty, rssData := pointCells(scalingPoints(scalingResult{w: res.w, runs: res.runs[i : i+1]}, f))
				perCells[f.key] = [3]string{per[0], rssEmpty[0], rssData[0]}
			}
			for _, r := range run.br.results {
				median, fastest, rounds, rss := r.figures()
				c, ok := perCells[r.key]
				if !ok {
					c = [3]string{"—", "—", "—"}
				}
				w("| %s | %d | %s | `%s` | %s | %s | %s | %s | %s | %s | %s |\n", workloadLabel(res.w), run.tasks, cell(r.label), cell(displayCommand(r.variant)),
					cell(median), fastest, c[0], rss, c[1], c[2], rounds)
			}
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// firstFailure is the first point that failed, if one did.
func firstFailure(points []scalingPoint) (scalingPoint, bool) {
	for _, p := range points {
		if p.err != "" {
			return p, true
		}
	}
	return scalingPoint{}, false
}

// longDuration prints a time limit: whole minutes as "N minutes".
func longDuration(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return formatDuration(d)
}
