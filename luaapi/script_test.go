package luaapi_test

// Script tests for the haz process API (docs/api.md: The script, Processes), the idea of
// starlark-go's chunkedfile: every luaapi/testdata/*.lua file is split into
// chunks, and each chunk runs as its own script through the real hazlua
// binary (built once by TestMain).
//
// The format of a testdata file:
//
//   - A line "---" or "--- title" starts a chunk; the title names the
//     subtest. Text before the first separator is a chunk too, unless it is
//     only comments and blank lines (a header). Each chunk is written to a
//     fresh directory as build.lua and keeps its own line numbering: its
//     first line is build.lua:1.
//   - "-- want: text" (a trailing comment, or a line of its own) is a line
//     the chunk must print; a chunk's stdout must be exactly its want lines.
//     A file with a golden file name.golden (sections "--- title", one per
//     chunk; a section whose output has no final newline ends with the line
//     `\ No newline at end of output`) is compared with that instead;
//     `go test ./luaapi -update` rewrites the golden files of the files that
//     have no want comments.
//   - "-- error: regexp", trailing the line that fails: the run must exit 1
//     and stderr's first line must be "hazlua: build.lua:N: " (N that line)
//     followed by a message matching regexp (which may span the detail
//     lines that follow; use (?s) for that).
//   - "-- exit: N": the run must exit with status N (os.exit).
//   - "-- stderr: regexp": stderr must match regexp; without it, a chunk
//     must write nothing to stderr but its error.
//   - "-- flags: -j1 ...": hazlua flags before the script; "-- args: a b":
//     script arguments after "--"; "-- stdin: text": hazlua's stdin is the
//     line text (default: empty); "-- timeout: 5": the run fails as a hang
//     after 5 s instead of 30 s (for chunks that hang when a bug is back).
//
// Whatever the chunk does, stderr must never show a Go trace or a data race
// (the binary is built with -race when the tests are).

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hazluaBin is the hazlua binary built by TestMain.
var hazluaBin string

func TestMain(m *testing.M) {
	flag.Parse()
	testutil.MainWithHazlua(m, &hazluaBin)
}

// runTimeout bounds one run of hazlua by default: a hang fails the test
// instead of the whole test binary.
const runTimeout = 30 * time.Second

// testEnvVar is set in the environment of every hazlua run, so scripts can
// check what children inherit.
const testEnvVar = "HAZLUA_TEST_VAR=inherited"

// result is one run of hazlua.
type result struct {
	stdout, stderr string
	code           int
}

// runHazlua runs hazlua [flags] build.lua [-- args] in dir, for at most
// timeout (0: runTimeout).
func runHazlua(t *testing.T, dir string, flags, args []string, stdin string, timeout time.Duration) result {
	t.Helper()
	if timeout == 0 {
		timeout = runTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(append([]string(nil), flags...), "build.lua")
	if len(args) > 0 {
		argv = append(append(argv, "--"), args...)
	}
	cmd := exec.CommandContext(ctx, hazluaBin, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), testEnvVar, "NO_COLOR=1",
		// A -race binary sleeps 1s at exit by default.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("hazlua did not finish within %v (a hang, or a process outlived hazlua holding its output)\nstdout:\n%s\nstderr:\n%s",
			timeout, res.stdout, res.stderr)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running hazlua: %v", err)
	}
	checkNoTrace(t, res.stderr)
	return res
}

// checkNoTrace fails when stderr shows a Go panic (a trace, or a
// recovered runtime error such as a nil dereference), a goroutine dump or a
// data race (docs/api.md: Guarantees).
func checkNoTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic:", "DATA RACE", "internal error", "runtime error: "} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr shows %q (a Go trace or race):\n%s", bad, stderr)
			return
		}
	}
}

// chunk is one script of a testdata file.
type chunk struct {
	title string
	line  int // the line of the file where the chunk's line 1 is
	src   string

	wants   []string
	hasWant bool

	errLine  int // 0: the chunk must not fail
	errRe    *regexp.Regexp
	exit     int
	hasExit  bool
	stderrRe *regexp.Regexp
	flags    []string
	args     []string
	stdin    string
	timeout  time.Duration
}

var (
	separatorRe = regexp.MustCompile(`^---(?:\s+(.*))?$`)
	directiveRe = regexp.MustCompile(`(?:^|\s)-- (want|error|exit|stderr|flags|args|stdin|timeout):(?: (.*))?$`)
)

// parseChunks splits a testdata file into chunks.
func parseChunks(t *testing.T, file, text string) []*chunk {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var chunks []*chunk
	cur := &chunk{line: 1}
	var body []string
	flush := func() {
		if len(chunks) == 0 && onlyComments(body) {
			return // a header
		}
		cur.src = strings.Join(body, "\n") + "\n"
		if cur.title == "" {
			cur.title = fmt.Sprintf("chunk%d", len(chunks)+1)
		}
		chunks = append(chunks, cur)
	}
	for i, line := range lines {
		if m := separatorRe.FindStringSubmatch(line); m != nil {
			flush()
			cur, body = &chunk{title: strings.TrimSpace(m[1]), line: i + 2}, nil
			continue
		}
		body = append(body, line)
		m := directiveRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		where := fmt.Sprintf("%s:%d", file, i+1)
		arg := strings.TrimRight(m[2], " \t")
		switch m[1] {
		case "want":
			cur.wants, cur.hasWant = append(cur.wants, arg), true
		case "error":
			if cur.errRe != nil {
				t.Fatalf("%s: a second error directive in one chunk", where)
			}
			re, err := regexp.Compile(arg)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			cur.errRe, cur.errLine = re, len(body)
		case "exit":
			n, err := strconv.Atoi(arg)
			if err != nil {
				t.Fatalf("%s: exit: %v", where, err)
			}
			cur.exit, cur.hasExit = n, true
		case "stderr":
			re, err := regexp.Compile(arg)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			cur.stderrRe = re
		case "flags":
			cur.flags = strings.Fields(arg)
		case "args":
			cur.args = strings.Fields(arg)
		case "stdin":
			cur.stdin = arg + "\n"
		case "timeout":
			n, err := strconv.ParseFloat(arg, 64)
			if err != nil || n <= 0 {
				t.Fatalf("%s: timeout: want a number of seconds, not %q", where, arg)
			}
			cur.timeout = time.Duration(n * float64(time.Second))
		}
	}
	flush()
	seen := map[string]bool{}
	for _, c := range chunks {
		if seen[c.title] {
			t.Fatalf("%s: two chunks are titled %q", file, c.title)
		}
		seen[c.title] = true
	}
	return chunks
}

func onlyComments(lines []string) bool {
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// noNewline ends a golden section whose output does not end in a newline,
// as in diff.
const noNewline = `\ No newline at end of output`

// parseGolden splits a golden file into its sections, one per chunk.
func parseGolden(text string) []string {
	var sections []string
	var cur []string
	started := false
	end := func() {
		s := strings.Join(cur, "\n")
		if len(cur) > 0 {
			s += "\n"
		}
		if strings.HasSuffix(s, "\n"+noNewline+"\n") {
			s = strings.TrimSuffix(s, "\n"+noNewline+"\n")
		}
		sections = append(sections, s)
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if separatorRe.MatchString(line) {
			if started || len(cur) > 0 {
				end()
			}
			started, cur = true, nil
			continue
		}
		cur = append(cur, line)
	}
	if started || len(cur) > 0 {
		end()
	}
	return sections
}

// formatGolden is the golden file for chunks whose stdouts are outs.
func formatGolden(t *testing.T, chunks []*chunk, outs []string) []byte {
	t.Helper()
	var b strings.Builder
	for i, c := range chunks {
		fmt.Fprintf(&b, "--- %s\n", c.title)
		out := outs[i]
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if separatorRe.MatchString(line) || line == noNewline {
				t.Fatalf("chunk %s: stdout line %q cannot be held by a golden file", c.title, line)
			}
		}
		b.WriteString(out)
		if out != "" && !strings.HasSuffix(out, "\n") {
			b.WriteString("\n" + noNewline + "\n")
		}
	}
	return []byte(b.String())
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.lua files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".lua")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runScriptFile(t, file)
		})
	}
}

// runScriptFile runs every chunk of one testdata file, in parallel.
func runScriptFile(t *testing.T, file string) {
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	chunks := parseChunks(t, file, string(text))
	goldenPath := strings.TrimSuffix(file, ".lua") + ".golden"
	usesWant := false
	for _, c := range chunks {
		usesWant = usesWant || c.hasWant
	}
	var golden []string
	hasGolden := false
	if data, err := os.ReadFile(goldenPath); err == nil {
		golden, hasGolden = parseGolden(string(data)), true
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if hasGolden && usesWant {
		t.Fatalf("%s has want comments and a golden file %s: use one or the other", file, goldenPath)
	}
	writeGolden := *update && !usesWant
	if hasGolden && !writeGolden && len(golden) != len(chunks) {
		t.Fatalf("%s has %d sections for %d chunks (run go test ./luaapi -update)", goldenPath, len(golden), len(chunks))
	}
	outs := make([]string, len(chunks))
	var mu sync.Mutex
	if writeGolden {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("not rewriting %s: the test failed", goldenPath)
				return
			}
			if err := os.WriteFile(goldenPath, formatGolden(t, chunks, outs), 0o666); err != nil {
				t.Error(err)
			}
		})
	}
	for i, c := range chunks {
		t.Run(c.title, func(t *testing.T) {
			t.Parallel()
			res := runChunk(t, file, c)
			mu.Lock()
			outs[i] = res.stdout
			mu.Unlock()
			switch {
			case writeGolden:
			case hasGolden:
				if res.stdout != golden[i] {
					t.Errorf("%s:%d: stdout differs from %s (run go test ./luaapi -update to accept)\ngot:\n%s\nwant:\n%s",
						file, c.line, goldenPath, res.stdout, golden[i])
				}
			default:
				want := ""
				for _, w := range c.wants {
					want += w + "\n"
				}
				if res.stdout != want {
					t.Errorf("%s:%d: stdout:\n%s\nwant (from -- want: comments):\n%s", file, c.line, res.stdout, want)
				}
			}
		})
	}
}

// runChunk runs one chunk and checks its exit status and stderr.
func runChunk(t *testing.T, file string, c *chunk) result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(c.src), 0o666); err != nil {
		t.Fatal(err)
	}
	res := runHazlua(t, dir, c.flags, c.args, c.stdin, c.timeout)
	where := fmt.Sprintf("%s:%d", file, c.line) // the chunk, for the reader
	switch {
	case c.errRe != nil:
		if res.code != 1 {
			t.Errorf("%s: exit status %d, want 1 (an error on build.lua:%d)\nstderr:\n%s", where, res.code, c.errLine, res.stderr)
		}
		prefix := fmt.Sprintf("hazlua: build.lua:%d: ", c.errLine)
		msg, ok := strings.CutPrefix(res.stderr, prefix)
		if !ok && c.stderrRe != nil {
			if i := strings.Index(res.stderr, "\n"+prefix); i >= 0 {
				msg, ok = res.stderr[i+1+len(prefix):], true
			}
		}
		if !ok {
			t.Errorf("%s: stderr does not start with %q (the error marked on line %d of the chunk, %s:%d):\n%s",
				where, prefix, c.errLine, file, c.line+c.errLine-1, res.stderr)
		} else if !c.errRe.MatchString(strings.TrimSuffix(msg, "\n")) {
			t.Errorf("%s: error message does not match %q:\n%s%s", where, c.errRe, prefix, msg)
		}
	case c.hasExit:
		if res.code != c.exit {
			t.Errorf("%s: exit status %d, want %d\nstderr:\n%s", where, res.code, c.exit, res.stderr)
		}
	default:
		if res.code != 0 {
			t.Errorf("%s: exit status %d, want 0\nstderr:\n%s", where, res.code, res.stderr)
		}
	}
	if c.stderrRe != nil {
		if !c.stderrRe.MatchString(res.stderr) {
			t.Errorf("%s: stderr does not match %q:\n%s", where, c.stderrRe, res.stderr)
		}
	} else if c.errRe == nil && res.stderr != "" {
		t.Errorf("%s: unexpected stderr:\n%s", where, res.stderr)
	}
	return res
}

// TestParseChunks checks the chunk format itself: numbering, titles,
// directives and golden sections.
func TestParseChunks(t *testing.T) {
	const text = `-- a header, not run

--- first
print(1) -- want: 1
-- want: two
--- second one
-- flags: -j1 -v
-- args: a b
-- exit: 3
-- timeout: 2.5
local x = 1
haz.spawn{} -- error: ^haz\.spawn: no program
`
	chunks := parseChunks(t, "x.lua", text)
	if len(chunks) != 2 {
		t.Fatalf("%d chunks, want 2", len(chunks))
	}
	c1, c2 := chunks[0], chunks[1]
	if c1.title != "first" || c1.line != 4 || !c1.hasWant || strings.Join(c1.wants, "|") != "1|two" {
		t.Errorf("chunk 1: %+v", c1)
	}
	if c1.src != "print(1) -- want: 1\n-- want: two\n" {
		t.Errorf("chunk 1 source: %q", c1.src)
	}
	if c2.title != "second one" || c2.line != 7 || c2.errLine != 6 || !c2.errRe.MatchString("haz.spawn: no program") ||
		strings.Join(c2.flags, " ") != "-j1 -v" || strings.Join(c2.args, " ") != "a b" ||
		!c2.hasExit || c2.exit != 3 || c2.timeout != 2500*time.Millisecond {
		t.Errorf("chunk 2: %+v", c2)
	}
	if chunks := parseChunks(t, "y.lua", "print(1)\n---\nprint(2)\n"); len(chunks) != 2 || chunks[0].title != "chunk1" || chunks[1].line != 3 {
		t.Errorf("a first chunk without a separator: %+v", chunks)
	}

	outs := []string{"1\ntwo\n", "no newline"}
	golden := formatGolden(t, chunks, outs)
	want := "--- first\n1\ntwo\n--- second one\nno newline\n" + noNewline + "\n"
	if string(golden) != want {
		t.Errorf("golden:\n%s\nwant:\n%s", golden, want)
	}
	if got := parseGolden(string(golden)); len(got) != 2 || got[0] != outs[0] || got[1] != outs[1] {
		t.Errorf("parseGolden: %q, want %q", got, outs)
	}
	if got := parseGolden("--- a\n--- b\n\n"); len(got) != 2 || got[0] != "" || got[1] != "\n" {
		t.Errorf("parseGolden of empty sections: %q", got)
	}
}
