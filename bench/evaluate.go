package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// summary is one benchmark's row in the report's summary table.
type summary struct {
	anchors string
	hazlua  string
	ratio   string
	target  string
	verdict string // "met", "missed (...)", or "not measured (...)"
}

// criterion is one part of a target, checked on measured figures.
type criterion struct {
	name string
	ok   bool
}

func verdict(cs ...criterion) string {
	var missed []string
	for _, c := range cs {
		if !c.ok {
			missed = append(missed, c.name)
		}
	}
	if len(missed) == 0 {
		return "**met**"
	}
	return "**missed** (" + strings.Join(missed, "; ") + ")"
}

// evaluate computes the summary row of a benchmark against its target.
func evaluate(br benchResult, sz sizes) summary {
	hz := br.results[0]
	anchors := br.results[1:]
	var s summary
	var parts []string
	for _, a := range anchors {
		parts = append(parts, a.label+": "+figure(br.bench.name, a, sz))
	}
	s.anchors = strings.Join(parts, "<br>")
	s.hazlua = figure(br.bench.name, hz, sz)

	switch br.bench.name {
	case "startup":
		s.target = "≤ 1.20× lua5.4"
	case "spawn":
		s.target = "≤ 1.10× Go os/exec, and < 1.00× bash"
	case "pipe":
		s.target = "throughput ≥ 0.95× bash"
	case "capture":
		s.target = fmt.Sprintf("time ≤ %.2f× lua5.4 in every round (the worst round's ratio, each round's hazlua over that round's lua5.4), and RSS ≤ 1.5 × data + 30 MiB = %s", targetCaptureRatio, humanBytes(rssLimit(sz)))
	}

	if !hz.ok() {
		s.ratio = "n/a"
		s.verdict = "not measured (hazlua failed)"
		return s
	}
	for _, a := range anchors {
		if !a.ok() {
			s.ratio = "n/a"
			s.verdict = "not measured (" + a.label + " failed)"
			return s
		}
	}

	ratio := func(a *variantResult) float64 { return float64(hz.median()) / float64(a.median()) }
	switch br.bench.name {
	case "startup":
		var rs []string
		for _, a := range anchors {
			rs = append(rs, fmt.Sprintf("%.2f× %s", ratio(a), a.label))
		}
		s.ratio = strings.Join(rs, "<br>")
		s.verdict = verdict(criterion{"> 1.20× lua5.4", ratio(anchors[0]) <= 1.20})
	case "spawn":
		goR, bashR := ratio(anchors[0]), ratio(anchors[1])
		s.ratio = fmt.Sprintf("%.2f× Go os/exec<br>%.2f× bash", goR, bashR)
		s.verdict = verdict(
			criterion{"> 1.10× Go os/exec", goR <= 1.10},
			criterion{"not faster than bash", bashR < 1.0},
		)
	case "pipe":
		// throughput ratio = inverse of the time ratio
		r := 1 / ratio(anchors[0])
		s.ratio = fmt.Sprintf("%.2f× bash throughput", r)
		s.verdict = verdict(criterion{"< 0.95× bash", r >= 0.95})
	case "capture":
		rs := roundRatios(hz, anchors[0])
		if len(rs) == 0 {
			s.ratio, s.verdict = "n/a", "not measured (hazlua and lua5.4 ran in different rounds)"
			return s
		}
		worst, slower := slices.Max(rs), 0
		cells := make([]string, len(rs))
		for i, r := range rs {
			cells[i] = fmt.Sprintf("%.2f×", r)
			if r > targetCaptureRatio {
				slower++
			}
		}
		rss := hz.medianRSS()
		s.ratio = fmt.Sprintf("time: worst round %.2f× lua5.4 (median %.2f×; by round: %s)<br>RSS %.2f× data (%.2f× lua5.4's)",
			worst, ratio(anchors[0]), strings.Join(cells, ", "),
			float64(rss)/float64(sz.captureBytes), float64(rss)/float64(anchors[0].medianRSS()))
		s.verdict = verdict(
			criterion{fmt.Sprintf("slower than lua5.4 in %d of %d rounds", slower, len(rs)), worst <= targetCaptureRatio},
			criterion{"RSS over " + humanBytes(rssLimit(sz)), rss <= rssLimit(sz)},
		)
	}
	return s
}

// targetCaptureRatio is capture's time target: hazlua ≤ 1.00× lua5.4 in
// every round.
const targetCaptureRatio = 1.0

// roundRatios is a's wall time over b's, round by round, or nil when they
// did not run in the same rounds. A variant that fails runs no further
// round, so two variants that are both ok ran in every round and their
// walls line up by round.
func roundRatios(a, b *variantResult) []float64 {
	if !a.ok() || !b.ok() || len(a.walls) != len(b.walls) {
		return nil
	}
	rs := make([]float64, len(a.walls))
	for i := range a.walls {
		if b.walls[i] <= 0 {
			return nil
		}
		rs[i] = float64(a.walls[i]) / float64(b.walls[i])
	}
	return rs
}

// rssLimit is the capture target: 1.5 × data + 30 MiB.
func rssLimit(sz sizes) int64 { return sz.captureBytes*3/2 + 30*mib }

// figure is one variant's headline figure in the unit of its benchmark.
func figure(bench string, r *variantResult, sz sizes) string {
	if r.err != "" {
		return r.err
	}
	if !r.ok() {
		return "not run"
	}
	med, fast := r.median(), r.fastest
	switch bench {
	case "spawn":
		per := func(d time.Duration) string { return formatDuration(d / time.Duration(sz.spawns)) }
		return fmt.Sprintf("%s/spawn (min %s; total %s)", per(med), per(fast), formatDuration(med))
	case "pipe":
		return fmt.Sprintf("%s (best %s; %s)", throughput(sz.pipeBytes, med), throughput(sz.pipeBytes, fast), formatDuration(med))
	case "capture":
		return fmt.Sprintf("%s (min %s), peak RSS %s", formatDuration(med), formatDuration(fast), humanBytes(r.medianRSS()))
	default:
		return fmt.Sprintf("%s (min %s)", formatDuration(med), formatDuration(fast))
	}
}
