package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// variantResult is what was measured for one variant over all rounds.
type variantResult struct {
	variant
	walls   []time.Duration // one per round (for startup: that round's median)
	fastest time.Duration   // the fastest single run seen
	rss     []int64         // peak RSS per round, bytes (not for startup)
	err     string          // "error: ..." when the variant failed; then no figures
	note    string          // why the variant was replaced by its fallback
}

func (r *variantResult) ok() bool              { return r.err == "" && len(r.walls) > 0 }
func (r *variantResult) median() time.Duration { return medianDuration(r.walls) }
func (r *variantResult) medianRSS() int64      { return medianInt64(r.rss) }

// figures returns the report's cells of r: its median (or its error),
// fastest run, number of rounds and median peak RSS, "—" where unknown.
func (r *variantResult) figures() (median, fastest, rounds, rss string) {
	median, fastest, rounds, rss = "—", "—", "—", "—"
	if r.ok() {
		median, fastest = formatDuration(r.median()), formatDuration(r.fastest)
		rounds = fmt.Sprint(len(r.walls))
		if len(r.rss) > 0 {
			rss = humanBytes(r.medianRSS())
		}
	}
	if r.err != "" {
		median = r.err
	}
	return median, fastest, rounds, rss
}

// benchResult is one benchmark's variants, in the benchmark's order.
type benchResult struct {
	bench   benchmark
	results []*variantResult
}

// runBenchmark probes each variant once (a warm-up that also catches
// failures), then runs the rounds: in each round every live variant runs
// once, the starting variant rotating from round to round, so hazlua and its
// anchors alternate and share whatever the machine is doing.
func runBenchmark(b benchmark, cfg config, tools toolSet, dir string) benchResult {
	br := benchResult{bench: b}
	for _, v := range b.variants {
		br.results = append(br.results, &variantResult{variant: v})
	}
	progress("bench: %s: %s", b.name, b.what)
	for _, r := range br.results {
		if r.preErr != "" {
			r.err = r.preErr
			continue
		}
		if r.fallback != nil {
			tryFallback(r, dir)
		}
		if _, err := measureOne(r, dir); err != nil {
			r.err = errorCell(err, dir)
			progress("bench: %s: %s: %s", b.name, r.label, r.err)
		}
	}
	n := len(br.results)
	for round := 0; round < cfg.rounds; round++ {
		for k := 0; k < n; k++ {
			r := br.results[(round+k)%n]
			if r.err != "" {
				continue
			}
			var (
				median, fastest time.Duration
				err             error
			)
			if b.hyperfine {
				median, fastest, err = timeMany(r, cfg, tools, dir)
			} else {
				var m measurement
				m, err = measureOne(r, dir)
				median, fastest = m.wall, m.wall
				r.rss = append(r.rss, m.maxRSS)
			}
			if err != nil {
				r.err = errorCell(err, dir)
				progress("bench: %s: round %d/%d: %s: %s", b.name, round+1, cfg.rounds, r.label, r.err)
				continue
			}
			r.walls = append(r.walls, median)
			if len(r.walls) == 1 || fastest < r.fastest {
				r.fastest = fastest
			}
			progress("bench: %s: round %d/%d: %-16s %s", b.name, round+1, cfg.rounds, r.label, formatDuration(median))
		}
	}
	return br
}

// tryFallback runs r once with a time limit of r.slowAfter, and replaces r's
// variant by its fallback when that run is over the limit. The run is not
// timed for the report; a failure that is not slowness is left for the
// warm-up to report.
func tryFallback(r *variantResult, dir string) {
	progress("bench: %s: trying it at %d tasks (limit %s)", r.label, r.tasks, r.slowAfter)
	m, err := runOnceWithin(dir, r.argv, r.slowAfter)
	slow := errors.Is(err, errTimedOut) || (err == nil && m.wall > r.slowAfter)
	if !slow {
		return
	}
	took := "took " + formatDuration(m.wall)
	if err != nil {
		took = "did not finish in " + formatDuration(r.slowAfter)
	}
	r.note = fmt.Sprintf("at %d tasks one run %s (over %s), so it is measured at %d tasks", r.tasks, took, formatDuration(r.slowAfter), r.fallback.tasks)
	r.variant = *r.fallback
	progress("bench: %s: %s", r.label, r.note)
}

// errorCell is the report's text for a failed variant, with the temporary
// directory taken out of paths.
func errorCell(err error, dir string) string {
	return "error: " + strings.ReplaceAll(err.Error(), dir+"/", "")
}

// measureOne runs the variant once, between its before and after hooks
// (untimed), and checks its output.
func measureOne(r *variantResult, dir string) (measurement, error) {
	if r.before != nil {
		if err := r.before(); err != nil {
			return measurement{}, fmt.Errorf("before the run: %v", err)
		}
	}
	timeout := runTimeout
	if r.timeout > 0 {
		timeout = r.timeout
	}
	m, err := runOnceWithin(dir, r.argv, timeout)
	if err != nil {
		return m, err
	}
	if r.expect != "" && strings.TrimSpace(m.stdout) != r.expect {
		return m, fmt.Errorf("printed %q, want %q", firstLine(m.stdout), r.expect)
	}
	if r.after != nil {
		if err := r.after(); err != nil {
			return m, fmt.Errorf("after the run: %v", err)
		}
	}
	return m, nil
}

// timeMany is one startup round: many runs, through hyperfine if present.
func timeMany(r *variantResult, cfg config, tools toolSet, dir string) (median, fastest time.Duration, err error) {
	if tools.hyperfine != "" {
		return runHyperfine(tools.hyperfine, dir, r.argv, cfg.sizes.startupRuns, cfg.sizes.startupWarmup)
	}
	return timeRuns(dir, r.argv, cfg.sizes.startupRuns, cfg.sizes.startupWarmup)
}
