package main

import (
	"fmt"
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
		s.target = fmt.Sprintf("time ≤ 1.00× lua5.4, and RSS ≤ 1.5 × data + 30 MiB = %s", humanBytes(rssLimit(sz)))
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
		t := ratio(anchors[0])
		rss := hz.medianRSS()
		s.ratio = fmt.Sprintf("time %.2f× lua5.4<br>RSS %.2f× data (%.2f× lua5.4's)",
			t, float64(rss)/float64(sz.captureBytes), float64(rss)/float64(anchors[0].medianRSS()))
		s.verdict = verdict(
			criterion{"slower than lua5.4", t <= 1.0},
			criterion{"RSS over " + humanBytes(rssLimit(sz)), rss <= rssLimit(sz)},
		)
	}
	return s
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
