package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// newTestOutput returns an Output writing to two temporary files.
func newTestOutput(t *testing.T, mode Mode, color, quiet, status bool) (o *Output, stdout, stderr *os.File) {
	t.Helper()
	stdout, stderr = tempFile(t, "stdout"), tempFile(t, "stderr")
	o = NewOutput(stdout, stderr, mode, color, quiet, status)
	o.SetName("hazlua")
	return o, stdout, stderr
}

func TestPrefixedLinesNeverMix(t *testing.T) {
	const (
		sinks   = 6
		writers = 3 // producers per sink, each with its own Writer
		perW    = 150
	)
	o, stdout, _ := newTestOutput(t, Prefixed, false, false, false)
	// Line k of writer w of task s: a header, then filler whose length
	// varies up to twice the 64 KiB piece size now and then.
	line := func(s, w, k int) string {
		n := (k * 7919) % 3000
		if k%25 == 0 {
			n = 70000 + k*13
		}
		return fmt.Sprintf("s%d-w%d-k%d:", s, w, k) + strings.Repeat(string(rune('a'+s*writers+w)), n)
	}
	var wg sync.WaitGroup
	for s := range sinks {
		sink := o.Sink(fmt.Sprintf("task%d", s))
		for w := range writers {
			wr, done := sink.Writer(Stdout)
			wg.Go(func() {
				defer done()
				rng := rand.New(rand.NewPCG(uint64(s), uint64(w)))
				var all []byte
				for k := range perW {
					all = append(all, line(s, w, k)...)
					all = append(all, '\n')
				}
				// Write in random chunks that split lines anywhere.
				for len(all) > 0 {
					n := min(len(all), 1+rng.IntN(9000))
					if _, err := wr.Write(all[:n]); err != nil {
						t.Error(err)
						return
					}
					all = all[n:]
				}
			})
		}
	}
	wg.Wait()

	// Reassemble: every output line must be "[taskS] " + a piece; pieces of
	// one writer, concatenated, must give its lines back in order. A piece
	// that continues a long line is known by its filler letter.
	re := regexp.MustCompile(`^\[task(\d)\] (.*)$`)
	header := regexp.MustCompile(`^s(\d)-w(\d)-k(\d+):`)
	type key struct{ s, w int }
	next := map[key]int{}
	pending := map[key]string{}
	for i, l := range lines(contents(t, stdout)) {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d not prefixed: %.80q", i, l)
		}
		s, _ := strconv.Atoi(m[1])
		text := m[2]
		if len(text) > maxLine || text == "" {
			t.Fatalf("line %d: piece of %d bytes", i, len(text))
		}
		var k key
		if h := header.FindStringSubmatch(text); h != nil {
			w, _ := strconv.Atoi(h[2])
			k = key{s, w}
			if pending[k] != "" {
				t.Fatalf("line %d: writer %v starts a line before ending the last", i, k)
			}
		} else {
			id := int(text[0] - 'a')
			k = key{id / writers, id % writers}
			if k.s != s || pending[k] == "" {
				t.Fatalf("line %d: stray piece %.60q in task %d", i, text, s)
			}
		}
		pending[k] += text
		want := line(k.s, k.w, next[k])
		switch {
		case pending[k] == want:
			next[k]++
			pending[k] = ""
		case len(text) == maxLine && strings.HasPrefix(want, pending[k]):
			// More pieces follow.
		default:
			t.Fatalf("line %d: %.60q... is not line %d of writer %v", i, pending[k], next[k], k)
		}
	}
	for s := range sinks {
		for w := range writers {
			if got := next[key{s, w}]; got != perW {
				t.Errorf("task%d writer %d: %d lines, want %d", s, w, got, perW)
			}
		}
	}
}

func TestPrefixedPieces(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		input string
		want  []string // lines of output
	}{
		{"short", "a\nb\n", []string{"[t] a", "[t] b"}},
		{"empty lines", "\n\na\n", []string{"[t] ", "[t] ", "[t] a"}},
		{"carriage return kept", "a\r\n", []string{"[t] a\r"}},
		{"exactly 64 KiB", x(maxLine) + "\n", []string{"[t] " + x(maxLine)}},
		{"one byte more", x(maxLine+1) + "\n", []string{"[t] " + x(maxLine), "[t] x"}},
		{"150000 bytes", x(150000) + "\nend\n", []string{"[t] " + x(maxLine), "[t] " + x(maxLine), "[t] " + x(150000-2*maxLine), "[t] end"}},
		{"utf-8 boundary", x(maxLine-1) + "é\n", []string{"[t] " + x(maxLine-1), "[t] é"}},
		{"partial final line", "a\nno newline", []string{"[t] a", "[t] no newline"}},
		{"long partial final line", x(maxLine + 10), []string{"[t] " + x(maxLine), "[t] " + x(10)}},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1 << 30, 7, 4096} {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, chunk), func(t *testing.T) {
				o, stdout, stderr := newTestOutput(t, Prefixed, false, false, false)
				sink := o.Sink("t")
				in := tt.input
				for len(in) > 0 {
					n := min(chunk, len(in))
					sink.Stdout().Write([]byte(in[:n]))
					in = in[n:]
				}
				sink.Close()
				got := lines(contents(t, stdout))
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %d lines %.200q\nwant %d lines %.200q", len(got), got, len(tt.want), tt.want)
				}
				if s := contents(t, stderr); s != "" {
					t.Errorf("stderr: %q", s)
				}
			})
		}
	}
}

func TestWriterDoneFlushesPartialLine(t *testing.T) {
	o, stdout, stderr := newTestOutput(t, Prefixed, false, false, false)
	sink := o.Sink("t")
	w1, done1 := sink.Writer(Stderr)
	w2, done2 := sink.Writer(Stderr)
	io.WriteString(w1, "one, ")
	io.WriteString(w2, "two\nthree")
	io.WriteString(w1, "still one")
	if got := contents(t, stderr); got != "[t] two\n" {
		t.Fatalf("before done: %q", got)
	}
	done1()
	done2()
	want := "[t] two\n[t] one, still one\n[t] three\n"
	if got := contents(t, stderr); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if got := contents(t, stdout); got != "" {
		t.Errorf("stdout %q", got)
	}
}

func TestGrouped(t *testing.T) {
	o, stdout, stderr := newTestOutput(t, Grouped, true, false, false)
	a, b := o.Sink("a"), o.Sink("b")
	io.WriteString(a.Stdout(), "a-out1\n")
	io.WriteString(b.Stdout(), "b-out1\n")
	io.WriteString(a.Stderr(), "a-err1\n")
	wa, done := a.Writer(Stdout)
	io.WriteString(wa, "a-out2 partial")
	io.WriteString(a.Stdout(), "a-out3\n")
	if got := contents(t, stdout) + contents(t, stderr); got != "" {
		t.Fatalf("output before any task ended: %q", got)
	}
	b.Close()
	if got := contents(t, stdout); got != "b-out1\n" {
		t.Fatalf("after b ended: %q", got)
	}
	done()
	a.Close()
	a.Close() // idempotent
	if got, want := contents(t, stdout), "b-out1\na-out1\na-out3\na-out2 partial\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := contents(t, stderr), "a-err1\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	io.WriteString(a.Stdout(), "late\n") // after Close: written at once
	if got := contents(t, stdout); !strings.HasSuffix(got, "a-out2 partial\nlate\n") {
		t.Errorf("late output: %q", got)
	}
	if got, want := a.Tail(), []string{"a-out1", "a-err1", "a-out3", "a-out2 partial", "late"}; !slices.Equal(got, want) {
		t.Errorf("tail %q, want %q", got, want)
	}
}

func TestGroupedSpillsToFile(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	o, stdout, _ := newTestOutput(t, Grouped, false, false, false)
	s := o.Sink("big")
	var want strings.Builder
	for i := 0; want.Len() < 3*spillAt; i++ {
		l := fmt.Sprintf("%d %s\n", i, strings.Repeat("y", i%5000))
		want.WriteString(l)
		io.WriteString(s.Stdout(), l)
	}
	if got := contents(t, stdout); got != "" {
		t.Fatalf("%d bytes before Close", len(got))
	}
	s.Close()
	if got := contents(t, stdout); got != want.String() {
		t.Errorf("got %d bytes, want %d (equal: %v)", len(got), want.Len(), got == want.String())
	}
}

func TestRaw(t *testing.T) {
	o, stdout, stderr := newTestOutput(t, Raw, true, false, true)
	s := o.Sink("t")
	if f, ok := s.Stdout().(*os.File); !ok || f != stdout {
		t.Errorf("Stdout() = %T, want the stdout *os.File", s.Stdout())
	}
	if f, ok := s.Stderr().(*os.File); !ok || f != stderr {
		t.Errorf("Stderr() = %T, want the stderr *os.File", s.Stderr())
	}
	w, done := s.Writer(Stdout)
	if f, ok := w.(*os.File); !ok || f != stdout {
		t.Errorf("Writer(Stdout) = %T, want the stdout *os.File", w)
	}
	done()
	// A real child writes straight to the file, no newline added.
	cmd := exec.Command("sh", "-c", "printf 'raw out'; printf 'raw err' >&2")
	cmd.Stdout, cmd.Stderr = s.Stdout(), s.Stderr()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := contents(t, stdout); got != "raw out" {
		t.Errorf("stdout %q", got)
	}
	if got := contents(t, stderr); got != "raw err" {
		t.Errorf("stderr %q (no status line in raw mode)", got)
	}
	if s.Tail() != nil {
		t.Errorf("raw tail %q", s.Tail())
	}
}

func TestChildProcessThroughSink(t *testing.T) {
	o, stdout, stderr := newTestOutput(t, Prefixed, false, false, false)
	s := o.Sink("sh")
	wout, doneOut := s.Writer(Stdout)
	werr, doneErr := s.Writer(Stderr)
	cmd := exec.Command("sh", "-c", `i=0; while [ $i -lt 50 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; printf tail`)
	cmd.Stdout, cmd.Stderr = wout, werr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	doneOut()
	doneErr()
	out, errs := lines(contents(t, stdout)), lines(contents(t, stderr))
	if len(out) != 51 || out[0] != "[sh] out 0" || out[50] != "[sh] tail" {
		t.Errorf("stdout: %d lines, first %q last %q", len(out), out[0], out[len(out)-1])
	}
	if len(errs) != 50 || errs[49] != "[sh] err 49" {
		t.Errorf("stderr: %d lines", len(errs))
	}
}

func TestColorPrefix(t *testing.T) {
	o, stdout, _ := newTestOutput(t, Prefixed, true, false, false)
	for _, name := range []string{"a", "build", "a"} {
		s := o.Sink(name)
		io.WriteString(s.Stdout(), "x\n")
	}
	got := lines(contents(t, stdout))
	re := regexp.MustCompile(`^\x1b\[(\d+)m\[(\w+)\]\x1b\[0m x$`)
	var colors []string
	for _, l := range got {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q is not a coloured prefix", l)
		}
		colors = append(colors, m[1])
	}
	if colors[0] != colors[2] {
		t.Errorf("task a got colours %s and %s", colors[0], colors[2])
	}
	if c := strconv.Itoa(colorOf("build")); colors[1] != c {
		t.Errorf("build: colour %s, want %s", colors[1], c)
	}
}

func TestTail(t *testing.T) {
	o, _, _ := newTestOutput(t, Prefixed, false, false, false)
	s := o.Sink("t")
	for i := range 15 {
		fmt.Fprintf(s.Stdout(), "line %d\n", i)
	}
	io.WriteString(s.Stderr(), strings.Repeat("z", 1000))
	s.Close()
	got := s.Tail()
	want := []string{"line 6", "line 7", "line 8", "line 9", "line 10", "line 11", "line 12", "line 13", "line 14", strings.Repeat("z", tailWidth)}
	if !slices.Equal(got, want) {
		t.Errorf("tail %q\nwant %q", got, want)
	}
}

func TestNilOutputAndSink(t *testing.T) {
	var o *Output
	s := o.Sink("t")
	if s != nil || s.Stdout() != io.Discard || s.Stderr() != io.Discard || s.Name() != "" {
		t.Error("nil output: sink does not discard")
	}
	w, done := s.Writer(Stdout)
	w.Write([]byte("x"))
	done()
	s.Close()
	o.Summary(&Report{})
	o.Printf("x")
	if o.Err() != nil || s.Tail() != nil {
		t.Error("nil output reports something")
	}
}

func TestBrokenPipe(t *testing.T) {
	for _, mode := range []Mode{Prefixed, Grouped} {
		t.Run(mode.String(), func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			defer w.Close()
			stderr := tempFile(t, "stderr")
			o := NewOutput(w, stderr, mode, false, false, false)
			reported := make(chan error, 2)
			o.SetErrorHandler(func(err error) { reported <- err })

			g := newGraph(t, &Task{Name: "t", Run: func(ctx context.Context, tc *TaskContext) error {
				for i := range 100 {
					fmt.Fprintf(tc.Stdout(), "line %d\n", i)
				}
				io.WriteString(tc.Stderr(), "to stderr\n")
				return nil
			}})
			rep := Run(context.Background(), mustPlan(t, g, "t"), Options{Output: o})
			if rep.Failed() {
				t.Errorf("run failed: %v", causes(rep))
			}
			var got error
			select {
			case got = <-reported:
			case <-time.After(watchdog):
				t.Fatal("watchdog: write error not reported")
			}
			var we *WriteError
			if !errors.As(got, &we) || !we.BrokenPipe() || we.Stream != Stdout || !errors.Is(got, syscall.EPIPE) {
				t.Errorf("reported %v, want a broken-pipe WriteError on stdout", got)
			}
			if o.Err() != got {
				t.Errorf("Err() = %v, want %v", o.Err(), got)
			}
			if s := contents(t, stderr); s != "[t] to stderr\n" && s != "to stderr\n" {
				t.Errorf("stderr %q: the other stream should be unaffected", s)
			}
			select {
			case err := <-reported:
				t.Errorf("reported twice: %v", err)
			default:
			}
		})
	}
}

func TestErrorHandlerSetAfterFailure(t *testing.T) {
	r, w, _ := os.Pipe()
	r.Close()
	defer w.Close()
	o := NewOutput(w, tempFile(t, "stderr"), Prefixed, false, false, false)
	io.WriteString(o.Sink("t").Stdout(), "x\n")
	got := make(chan error, 1)
	o.SetErrorHandler(func(err error) { got <- err })
	select {
	case err := <-got:
		if !errors.Is(err, syscall.EPIPE) {
			t.Errorf("got %v", err)
		}
	case <-time.After(watchdog):
		t.Fatal("watchdog: earlier failure not reported")
	}
}

func TestStatusLine(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("status=%v", on), func(t *testing.T) {
			o, stdout, stderr := newTestOutput(t, Prefixed, false, false, on)
			o.SetStatusWidth(40)
			g := newGraph(t, &Task{Name: "compile", Run: func(ctx context.Context, tc *TaskContext) error {
				io.WriteString(tc.Stdout(), "working\n")
				io.WriteString(tc.Stderr(), "warning\n")
				return nil
			}}, ok("link", "compile"))
			Run(context.Background(), mustPlan(t, g, "link"), Options{Output: o})
			o.Printf("hazlua: bye")
			errs := contents(t, stderr)
			if got := contents(t, stdout); got != "[compile] working\n" {
				t.Errorf("stdout %q", got)
			}
			if !on {
				if errs != "[compile] warning\nhazlua: bye\n" {
					t.Errorf("stderr %q", errs)
				}
				return
			}
			// The run starts with "[0/2]"; the stderr line is written on
			// a cleared line and the status is redrawn after it; the
			// status line is gone at the end.
			for _, want := range []string{
				"[0/2]",
				clearLine + "[compile] warning\n[0/2] running: compile",
			} {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr %q lacks %q", errs, want)
				}
			}
			if !strings.HasSuffix(errs, clearLine+"hazlua: bye\n") {
				t.Errorf("stderr %q: status line not cleared at the end", errs)
			}
		})
	}
}

func TestRenderStatus(t *testing.T) {
	o := NewOutput(os.Stdout, os.Stderr, Prefixed, false, false, true)
	o.status.total, o.status.done = 10, 3
	for _, n := range []string{"alpha", "beta", "gamma", "délta"} {
		o.status.running.PushBack(n)
	}
	tests := []struct {
		width int
		want  string
	}{
		{80, "[3/10] running: alpha, beta, gamma, délta"},
		{30, "[3/10] running: alpha, beta…"},
		{42, "[3/10] running: alpha, beta, gamma, délta"},
		{41, "[3/10] running: alpha, beta, gamma, dél…"},
		{1, "[3/10] ru…"},
	}
	for _, tt := range tests {
		o.status.width = tt.width
		if got := string(o.renderStatus(nil)); got != tt.want {
			t.Errorf("width %d: %q, want %q", tt.width, got, tt.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Prefixed, Grouped, Raw} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseMode("fancy"); err == nil {
		t.Error("ParseMode(fancy) succeeded")
	}
}
