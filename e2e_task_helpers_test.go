package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Helpers for the end-to-end tests of tasks in e2e_task_test.go.

// taskMeetLua defines meet(n, name) for a script: it returns only once n task
// bodies (or branches) have called it, which proves that they ran at the
// same time. The first n-1 callers wait in a process reading a FIFO of
// their own (fifo-NAME in the project root, made by mkfifos); the n-th
// opens each of those FIFOs for writing, which ends the readers. Nothing
// is timed: if the n callers cannot all run at once, the readers time out
// after 20 s (a failure bound) and the run fails instead of hanging.
const taskMeetLua = `
local meet_arrived = {}
function mkfifos(...)
  for _, name in ipairs{...} do haz.run{"mkfifo", "fifo-" .. name} end
end
function meet(n, name)
  table.insert(meet_arrived, name)
  if #meet_arrived < n then
    haz.run{"cat", "fifo-" .. name, timeout = 20, name = "meet-" .. name}
  else
    for i = 1, n - 1 do
      haz.run{"sh", "-c", ': > "$1"', "sh", "fifo-" .. meet_arrived[i], timeout = 20}
    end
  end
end
`

// taskSummaryLine returns a regexp matching a whole summary line "hazlua:
// task NAME REST" of stderr, REST being a regexp.
func taskSummaryLine(name, rest string) *regexp.Regexp {
	return regexp.MustCompile(`^hazlua: task ` + regexp.QuoteMeta(name) + ` ` + rest + `$`)
}

// taskHasLine reports whether one of lines matches re.
func taskHasLine(lines []string, re *regexp.Regexp) bool {
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// taskCheckLines fails for each regexp of want that no line matches, and for
// each of notWant that one does.
func taskCheckLines(t *testing.T, what string, lines []string, want, notWant []*regexp.Regexp) {
	t.Helper()
	for _, re := range want {
		if !taskHasLine(lines, re) {
			t.Errorf("%s has no line matching %q:\n%s", what, re, strings.Join(lines, "\n"))
		}
	}
	for _, re := range notWant {
		if taskHasLine(lines, re) {
			t.Errorf("%s has a line matching %q:\n%s", what, re, strings.Join(lines, "\n"))
		}
	}
}

// taskOutputLine is line i (0-based) of the producer named prod ("t3c": task
// t3's child), n bytes long without its newline: a header "prod:i:" then a
// filler from the producer's own alphabet, so that any piece of the line
// tells whose it is and no two lines are alike.
func taskOutputLine(prod string, alphabet string, i, n int) string {
	var b strings.Builder
	b.Grow(n)
	fmt.Fprintf(&b, "%s:%d:", prod, i)
	for k := 0; b.Len() < n; k++ {
		b.WriteByte(alphabet[(i+k)%len(alphabet)])
	}
	return b.String()
}

// taskLineLength is the length of line i of a producer: mostly 100 to about
// 2,000 bytes, every 40th line 20,000 to 70,000 bytes (longer than the
// 64 KiB at which prefixed output cuts a line into pieces, for some).
func taskLineLength(seed, i int) int {
	x := uint32(seed*7919 + i*104729 + 12345)
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	if i%40 == 39 {
		return 20000 + int(x%50001)
	}
	return 100 + int(x%1900)
}

// taskWriteLines writes lines, each followed by a newline, to dir/name.
func taskWriteLines(t *testing.T, dir, name string, lines []string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// taskProducer is one writer of a task's output in the output tests: its
// expected lines and the alphabet of their fillers.
type taskProducer struct {
	name     string // header of its lines, e.g. "t3c"
	task     string // the task it writes for, e.g. "t3"
	alphabet string
	lines    []string
}

// taskOwnerOf returns the producer whose alphabet piece is written in, or nil
// when the piece mixes alphabets or starts with a header.
func taskOwnerOf(prods []*taskProducer, piece string) *taskProducer {
	if piece == "" {
		return nil
	}
	for _, p := range prods {
		if strings.Trim(piece, p.alphabet) == "" {
			return p
		}
	}
	return nil
}

// taskMakeProducers writes the input files of taskOutputScript for tasks
// t1..tN (a child's and a print loop's per task), with lines lines per
// producer of length(producer index, line index) bytes each, and returns
// the producers.
func taskMakeProducers(t *testing.T, dir string, tasks, lines int, length func(seed, i int) int) []*taskProducer {
	t.Helper()
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var prods []*taskProducer
	for k := 1; k <= tasks; k++ {
		for j, kind := range []string{"c", "p"} {
			idx := 2*(k-1) + j
			p := &taskProducer{
				name:     fmt.Sprintf("t%d%s", k, kind),
				task:     fmt.Sprintf("t%d", k),
				alphabet: letters[3*idx : 3*idx+3],
			}
			for i := range lines {
				p.lines = append(p.lines, taskOutputLine(p.name, p.alphabet, i, length(idx, i)))
			}
			taskWriteLines(t, dir, p.name[:len(p.name)-1]+"-"+kind+".txt", p.lines)
			prods = append(prods, p)
		}
	}
	return prods
}

// taskNames returns t1..tN.
func taskNames(n int) []string {
	var names []string
	for k := 1; k <= n; k++ {
		names = append(names, fmt.Sprintf("t%d", k))
	}
	return names
}

// taskHeaderRe matches the header of a line that a producer wrote.
var taskHeaderRe = regexp.MustCompile(`^(t[0-9]+[cp]):([0-9]+):`)
