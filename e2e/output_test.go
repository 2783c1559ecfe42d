package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// End-to-end tests of hazlua's output: the task output modes (prefixed,
// grouped, raw) under load, lines longer than a prefixed piece, final
// partial lines, and a stdout or stderr whose reader goes away.

// TestPrefixedLongLineReassembles: in prefixed mode a task's 300 KB line
// (valid UTF-8, two-byte characters) comes out as "[t] " pieces of at most
// 64 KiB that join to the line, no character cut, and the final partial
// line is flushed with its prefix when the task ends (docs/api.md: Output).
func TestPrefixedLongLineReassembles(t *testing.T) {
	long := "x" + strings.Repeat("é", 150000)
	input := "short\n" + long + "\n\ntail without newline"
	dir := writeScript(t, `haz.task("t", function() haz.run{"cat", "in.txt"} end)`)
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runScript(t, dir, runOpts{}, "-q", "t")
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	var pieces []string
	for i, l := range stdout {
		p, ok := strings.CutPrefix(l, "[t] ")
		if !ok {
			t.Fatalf("stdout line %d has no prefix: %.60q", i+1, l)
		}
		if len(p) > 64<<10 || !utf8.ValidString(p) {
			t.Errorf("piece %d: %d bytes, valid UTF-8: %v", i+1, len(p), utf8.ValidString(p))
		}
		pieces = append(pieces, p)
	}
	if len(pieces) == 0 {
		t.Fatal("no output")
	}
	if len(pieces) < 5 || pieces[0] != "short" || pieces[len(pieces)-2] != "" || pieces[len(pieces)-1] != "tail without newline" {
		t.Fatalf("%d pieces; first %.20q, last two %.20q (a lost final partial line: see TestFinalPartialLineNotLost)",
			len(pieces), pieces[0], pieces[max(0, len(pieces)-2):])
	}
	if got := strings.Join(pieces[1:len(pieces)-2], ""); got != long {
		t.Errorf("the long line's pieces join to %d bytes, want %d (the line)", len(got), len(long))
	}
}

// TestFinalPartialLineNotLost: a task's child writes a last line without
// a newline and exits; the task ends at once, and so does the run. The
// line must be in hazlua's output, ended with a newline, in its place
// (docs/api.md: Output: "a final partial line is flushed when the task ends"; Guarantees).
// Losing it is a race, so each mode runs several times.
func TestFinalPartialLineNotLost(t *testing.T) {
	dir := writeScript(t, `
haz.task("t", function() haz.run{"printf", "first\nlast, no newline"} end)
haz.task("u", {deps = {"t"}, run = function() print("next task") end})
`)
	for _, tt := range []struct {
		mode string
		want []string
	}{
		{"prefixed", []string{"[t] first", "[t] last, no newline", "[u] next task"}},
		{"grouped", []string{"first", "last, no newline", "next task"}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			for i := range 25 {
				code, stdout, stderr := runScript(t, dir, runOpts{}, "-q", "-o", tt.mode, "u")
				if code != 0 {
					t.Fatalf("run %d: exit status %d; stderr:\n%s", i+1, code, strings.Join(stderr, "\n"))
				}
				if !slices.Equal(stdout, tt.want) {
					t.Fatalf("run %d: stdout:\n%s\nwant:\n%s", i+1, strings.Join(stdout, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}

// TestClosedOutput: hazlua's own stdout, or stderr, is a pipe whose reader
// goes away (`hazlua | head -1`). The run stops as for SIGTERM (docs/api.md: Cancellation),
// with exit 141, no Go trace, and nothing left.
func TestClosedOutput(t *testing.T) {
	t.Run("stdout", func(t *testing.T) {
		dir := writeScript(t, `
local c = start("child", TREE)
local i = 0
while true do
  i = i + 1
  print("line " .. i)
end
`)
		h := newHolders(t)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		r := startHazlua(t, dir, h, runOpts{stdout: pw}, "--grace", "3s")
		pw.Close()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil || line != "line 1\n" {
			t.Fatalf("first line of stdout: %q, %v; stderr:\n%s", line, err, r.stderr)
		}
		h.expect(t, r.token, treeNames("child")...)
		pr.Close() // like head -1 exiting
		code := r.exitCode(t)
		h.waitGone(t, r.token)
		lines := r.stderrLines(t)
		checkNoGoTrace(t, lines)
		if code != 141 {
			t.Errorf("exit status %d, want 141 (128+SIGPIPE); stderr:\n%s", code, strings.Join(lines, "\n"))
		}
	})
	t.Run("stderr", func(t *testing.T) {
		// -v writes a line to stderr for every spawn.
		dir := writeScript(t, `
local c = start("child", TREE)
while true do
  haz.run{"true"}
end
`)
		h := newHolders(t)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		r := startHazlua(t, dir, h, runOpts{stderr: pw}, "-v", "--grace", "3s")
		pw.Close()
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stderr ended (%v) before a spawn of true was echoed", err)
			}
			if strings.Contains(line, "true") {
				break
			}
		}
		h.expect(t, r.token, treeNames("child")...)
		pr.Close()
		code := r.exitCode(t)
		h.waitGone(t, r.token)
		if code != 141 {
			t.Errorf("exit status %d, want 141 (128+SIGPIPE)", code)
		}
	})
}

// outputScript runs one task per name in haz.args: each writes the lines of
// NAME-c.txt through a child (cat, whose writes cut lines anywhere) and, at
// the same time, the lines of NAME-p.txt with print, from a haz.parallel
// branch. The tasks first meet, so that they all write at once.
const outputScript = `
local names = haz.args
mkfifos(unpack(names))
for _, n in ipairs(names) do
  haz.task(n, function(t)
    meet(#names, t.name)
    haz.parallel(function()
      haz.run{"cat", t.name .. "-c.txt"}
    end, function()
      local data = assert(haz.fs.read(t.name .. "-p.txt"))
      for line in data:gmatch("([^\n]*)\n") do print(line) end
    end)
  end)
end
haz.task("default", {deps = names})
`

// TestPrefixedOutputUnderLoad: 8 tasks at once, each with a child and a
// print loop writing 2,000 lines of 100 to 70,000 bytes between them.
// Every line of stdout must be "[task] " followed by a whole line that
// task wrote, or one piece of a line longer than 64 KiB; put back
// together, each producer's lines come out complete and in order.
func TestPrefixedOutputUnderLoad(t *testing.T) {
	t.Parallel()
	const tasks, lines = 8, 1000 // per producer: 2 producers per task
	dir := writeScript(t, meetLua+outputScript)
	prods := makeProducers(t, dir, tasks, lines, producerLineLength)
	byName := map[string]*producer{}
	for _, p := range prods {
		byName[p.name] = p
	}

	start := time.Now()
	r := startHazlua(t, dir, nil, runOpts{}, append([]string{"-q", "-j8", "--"}, taskNames(tasks)...)...)
	code := r.exitCode(t)
	errLines := r.stderrLines(t)
	if !r.stdout.waitEOF(deadline) {
		t.Fatal("stdout still open")
	}
	t.Logf("%d tasks × %d lines took %v", tasks, 2*lines, time.Since(start).Round(time.Millisecond))
	checkNoGoTrace(t, errLines)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(errLines, "\n"))
	}

	got := map[string][]string{}  // producer → lines put back together
	lastPiece := map[string]int{} // producer → length of its last piece
	bad := 0
	for n, line := range r.stdout.all() {
		fail := func(format string, a ...any) {
			if bad++; bad <= 5 {
				if len(line) > 200 {
					line = line[:200] + "..."
				}
				t.Errorf("stdout line %d: %s: %q", n+1, fmt.Sprintf(format, a...), line)
			}
		}
		task, piece, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(task, "[") || !strings.HasSuffix(task, "]") {
			fail("no [task] prefix")
			continue
		}
		task = task[1 : len(task)-1]
		if len(piece) > 64<<10 {
			fail("a piece of %d bytes, more than 64 KiB", len(piece))
		}
		if m := producerHeaderRe.FindStringSubmatch(piece); m != nil {
			p := byName[m[1]]
			if p == nil || p.task != task {
				fail("a line of %s under the prefix of task %s", m[1], task)
				continue
			}
			got[p.name] = append(got[p.name], piece)
			lastPiece[p.name] = len(piece)
			continue
		}
		p := ownerOf(prods, piece)
		if p == nil || p.task != task || len(got[p.name]) == 0 {
			fail("a piece that is not the rest of a line of task %s", task)
			continue
		}
		// Only a line longer than 64 KiB is cut, into 64 KiB pieces (a cut
		// may move back to the start of a UTF-8 sequence; these are ASCII).
		if lastPiece[p.name] < 64<<10-3 {
			fail("the rest of a line of %s whose previous piece has only %d bytes: a line cut short", p.name, lastPiece[p.name])
		}
		got[p.name][len(got[p.name])-1] += piece
		lastPiece[p.name] = len(piece)
	}
	for _, p := range prods {
		g := got[p.name]
		if len(g) != len(p.lines) {
			t.Errorf("%s: %d lines, want %d", p.name, len(g), len(p.lines))
		}
		for i := range min(len(g), len(p.lines)) {
			if g[i] != p.lines[i] {
				t.Errorf("%s: line %d differs (%d bytes, want %d)", p.name, i, len(g[i]), len(p.lines[i]))
				break
			}
		}
	}
}

// TestGroupedOutput: with -o grouped, tasks that write at the same time
// (they meet first) still come out as one block each, holding exactly
// what the task wrote; one task writes more than hazlua keeps in memory.
func TestGroupedOutput(t *testing.T) {
	t.Parallel()
	const tasks = 4
	dir := writeScript(t, meetLua+outputScript)
	prods := makeProducers(t, dir, tasks, 300, func(seed, i int) int {
		if seed == 0 {
			return 20000 // t1's child: 6 MB, more than a task's output held in memory
		}
		return 50 + (seed*31+i*17)%300
	})

	r := startHazlua(t, dir, nil, runOpts{}, append([]string{"-q", "-j4", "-o", "grouped", "--"}, taskNames(tasks)...)...)
	code := r.exitCode(t)
	errLines := r.stderrLines(t)
	checkNoGoTrace(t, errLines)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(errLines, "\n"))
	}
	if !r.stdout.waitEOF(deadline) {
		t.Fatal("stdout still open")
	}
	checkGroups(t, r.stdout.all(), prods)
}

// checkGroups checks that lines (grouped stdout, unprefixed) are one block
// per task, each holding exactly the lines of the task's producers, each
// producer's in order.
func checkGroups(t *testing.T, lines []string, prods []*producer) {
	t.Helper()
	byName := map[string]*producer{}
	for _, p := range prods {
		byName[p.name] = p
	}
	seen := map[string]bool{}
	var order []string
	next := map[string]int{}
	cur := ""
	for n, line := range lines {
		m := producerHeaderRe.FindStringSubmatch(line)
		if m == nil || byName[m[1]] == nil {
			t.Fatalf("stdout line %d is not a line a task wrote: %.100q", n+1, line)
		}
		p := byName[m[1]]
		if p.task != cur {
			if seen[p.task] {
				t.Fatalf("stdout line %d: task %s's output resumes after task %s's: its block was split (blocks so far: %v)", n+1, p.task, cur, order)
			}
			seen[p.task] = true
			order = append(order, p.task)
			cur = p.task
		}
		i := next[p.name]
		if i >= len(p.lines) || p.lines[i] != line {
			t.Fatalf("stdout line %d: not line %d of %s", n+1, i, p.name)
		}
		next[p.name]++
	}
	for _, p := range prods {
		if next[p.name] != len(p.lines) {
			t.Errorf("%s: %d lines, want %d", p.name, next[p.name], len(p.lines))
		}
	}
	t.Logf("blocks in order: %v", order)
}

// TestRawOutput: with -o raw, a task's child writes to hazlua's own stdout
// (the same pipe, no copy through hazlua), and lines are unprefixed; in
// prefixed mode it writes to a pipe of hazlua's.
func TestRawOutput(t *testing.T) {
	t.Parallel()
	dir := writeScript(t, `
haz.task("default", function()
  print("from print")
  haz.run{"sh", "-c", "echo from child; readlink /proc/self/fd/1"}
end)
`)
	for _, mode := range []string{"raw", "prefixed"} {
		t.Run(mode, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			var st syscall.Stat_t
			if err := syscall.Fstat(int(pw.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			ours := "pipe:[" + strconv.FormatUint(st.Ino, 10) + "]"
			r := startHazlua(t, dir, nil, runOpts{stdout: pw}, "-q", "-o", mode)
			pw.Close()
			out, err := io.ReadAll(bufio.NewReader(pr))
			if err != nil {
				t.Fatal(err)
			}
			code := r.exitCode(t)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if code != 0 {
				t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(lines, "\n"))
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(got) != 3 {
				t.Fatalf("stdout:\n%s\nwant 3 lines", out)
			}
			if mode == "raw" {
				if got[0] != "from print" || got[1] != "from child" || got[2] != ours {
					t.Errorf("stdout:\n%s\nwant from print, from child, %s (the child's stdout is hazlua's)", out, ours)
				}
			} else {
				if got[0] != "[default] from print" || got[1] != "[default] from child" || got[2] == "[default] "+ours {
					t.Errorf("stdout:\n%s\nwant prefixed lines, and the child's stdout not hazlua's %s", out, ours)
				}
			}
		})
	}
}
