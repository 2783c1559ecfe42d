package main

import (
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
