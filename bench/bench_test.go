package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReplaceSection(t *testing.T) {
	startMarker, endMarker := coreMarkers.start, coreMarkers.end
	section := startMarker + "\nnew\n" + endMarker + "\n"
	cases := []struct{ name, doc, want string }{
		{"empty", "", section},
		{"append", "# B\n\ntext", "# B\n\ntext\n\n" + section},
		{"replace", "# B\n\n" + startMarker + "\nold\n" + endMarker + "\n\n## other\n",
			"# B\n\n" + section + "\n## other\n"},
	}
	for _, c := range cases {
		got, err := replaceSection(c.doc, coreMarkers, section)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := replaceSection(endMarker+startMarker, coreMarkers, section); err == nil {
		t.Error("markers out of order: no error")
	}
}

func TestShellQuote(t *testing.T) {
	got := shellJoin([]string{"lua5.4", "-e", "", "a b", "it's", "/x/y.lua"})
	want := `lua5.4 -e '' 'a b' 'it'\''s' /x/y.lua`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMedian(t *testing.T) {
	if got := medianDuration([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("odd: %v", got)
	}
	if got := medianDuration([]time.Duration{4, 1, 2, 3}); got != 2 {
		t.Errorf("even: %v", got) // (2+3)/2 in integer nanoseconds
	}
	if got := medianInt64(nil); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestRunOnceErrorIsFirstStderrLine(t *testing.T) {
	_, err := runOnce(t.TempDir(), []string{"sh", "-c", "echo; echo 'boom: it failed' >&2; echo more >&2; exit 3"})
	if err == nil || err.Error() != "boom: it failed" {
		t.Fatalf("err = %v", err)
	}
	_, err = runOnce(t.TempDir(), []string{"no-such-program-for-bench"})
	if err == nil || !strings.Contains(err.Error(), "no-such-program-for-bench") {
		t.Fatalf("missing program: err = %v", err)
	}
}

func TestRunOnceMaxRSS(t *testing.T) {
	m, err := runOnce(t.TempDir(), []string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	if m.maxRSS <= 0 || m.maxRSS > 1<<30 {
		t.Errorf("maxRSS = %d", m.maxRSS)
	}
}

// TestEvaluateCaptureWorstRound: capture's time is judged on its worst
// round, each round's hazlua over that round's lua5.4.
func TestEvaluateCaptureWorstRound(t *testing.T) {
	ms := func(ds ...int) []time.Duration {
		var out []time.Duration
		for _, d := range ds {
			out = append(out, time.Duration(d)*time.Millisecond)
		}
		return out
	}
	sz := sizes{captureBytes: 128 * mib}
	run := func(hz, lua []time.Duration) summary {
		return evaluate(benchResult{bench: benchmark{name: "capture"}, results: []*variantResult{
			{variant: variant{label: "hazlua"}, walls: hz, fastest: slices.Min(hz), rss: []int64{140 * mib}},
			{variant: variant{label: "lua5.4"}, walls: lua, fastest: slices.Min(lua), rss: []int64{260 * mib}},
		}}, sz)
	}
	// The median ratio is 0.95, but round 3 is 1.10× lua5.4.
	s := run(ms(90, 95, 110), ms(100, 100, 100))
	if !strings.HasPrefix(s.verdict, "**missed** (slower than lua5.4 in 1 of 3 rounds)") ||
		!strings.Contains(s.ratio, "worst round 1.10× lua5.4 (median 0.95×; by round: 0.90×, 0.95×, 1.10×)") {
		t.Errorf("worst round: %+v", s)
	}
	// A slow round of lua5.4 does not hide a slow round of hazlua: they
	// are compared round by round, not median to median.
	s = run(ms(90, 99, 120), ms(100, 100, 130))
	if s.verdict != "**met**" || !strings.Contains(s.ratio, "worst round 0.99×") {
		t.Errorf("every round faster: %+v", s)
	}
	if !strings.Contains(s.target, "in every round") || !strings.Contains(s.target, "222 MiB") {
		t.Errorf("target: %s", s.target)
	}
	if rs := roundRatios(&variantResult{walls: ms(1, 2)}, &variantResult{walls: ms(1)}); rs != nil {
		t.Errorf("different rounds: %v", rs)
	}
}
