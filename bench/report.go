package main

import (
	"fmt"
	"strings"
)

// writeHeader writes a section's title, its command and the first rows of
// its machine table (the caller adds the rest).
func writeHeader(w func(string, ...any), title string, cfg config, m machine) {
	w("## %s\n\n", title)
	sizeNote := "full sizes"
	if cfg.quick {
		sizeNote = "`-quick` sizes"
	}
	w("Command: `%s` (from the repository root; rounds: %d, %s).\n\n", cfg.command, cfg.rounds, sizeNote)
	w("| machine | |\n|---|---|\n")
	w("| CPUs (nproc) | %d |\n", m.nproc)
	w("| CPU model | %s |\n", cell(m.model))
	w("| kernel | %s |\n", cell(m.kernel))
	w("| Go | %s |\n", cell(m.goVer))
}

// renderReport renders the Markdown section: machine, command, method,
// a summary row per benchmark and every variant's figures.
func renderReport(cfg config, m machine, results []benchResult) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	writeHeader(w, "Core benchmarks: hazlua vs anchors", cfg, m)
	for _, name := range []string{"lua5.4", "hyperfine", "bash"} {
		if v := m.versions[name]; v != "" {
			w("| %s | %s |\n", name, cell(v))
		}
	}
	w("| date | %s |\n\n", m.date)

	w("Method: every round runs hazlua and each anchor once, alternating (the first variant rotates from round to round), after one untimed warm-up run of each. ")
	w("Figures are the median over rounds; \"min\"/\"best\" is the fastest single run. ")
	if ranStartup(results) {
		w("For startup a round is %d runs (after %d warm-up runs) timed by `hyperfine -N` (no shell), and the round's figure is their median. ", cfg.sizes.startupRuns, cfg.sizes.startupWarmup)
	}
	w("Other times are wall time from fork to reaping, measured by the harness; peak RSS is `ru_maxrss` from wait4 of the measured process (it includes children it reaped). ")
	w("Ratios are hazlua's median over the anchor's median (for pipe: throughput over throughput); capture's time is also compared round by round, each round's hazlua run over the lua5.4 run beside it in that round, and judged on the worst round. GB/s is 10⁹ bytes per second. ")
	w("The machine is shared with other work, so expect a few percent of noise.\n\n")

	w("### Summary\n\n")
	w("| benchmark | anchors | hazlua | ratio | target | result |\n|---|---|---|---|---|---|\n")
	for _, br := range results {
		s := evaluate(br, cfg.sizes)
		w("| %s | %s | %s | %s | %s | %s |\n", br.bench.name, cell(s.anchors), cell(s.hazlua), cell(s.ratio), cell(s.target), cell(s.verdict))
	}

	w("\n### Details\n\n")
	for _, br := range results {
		w("- **%s**: %s\n", br.bench.name, br.bench.what)
	}
	w("\n| benchmark | variant | command | median | min | rounds | peak RSS (median) |\n|---|---|---|---|---|---|---|\n")
	for _, br := range results {
		for _, r := range br.results {
			median, fastest, rounds, rss := r.figures()
			w("| %s | %s | `%s` | %s | %s | %s | %s |\n", br.bench.name, r.label,
				cell(displayCommand(r.variant)), cell(median), fastest, rounds, rss)
		}
	}
	return b.String()
}

func ranStartup(results []benchResult) bool {
	for _, br := range results {
		if br.bench.hyperfine {
			return true
		}
	}
	return false
}

// displayCommand shows a variant's command with temporary paths and the
// program's directory shortened to base names, as a reader would type it.
func displayCommand(v variant) string {
	argv := make([]string, len(v.argv))
	for i, a := range v.argv {
		if i == 0 || strings.Contains(a, "/hazlua-bench-") {
			a = a[strings.LastIndex(a, "/")+1:]
		}
		argv[i] = a
	}
	return shellJoin(argv)
}
