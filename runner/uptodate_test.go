package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/uptodate"
)

// Tests of Run with a Store (exec.go, predict.go, outputs.go): tasks
// skipped when up to date, restored from the cache with their output,
// outputs checked and passed to dependents. The bodies are Go functions
// writing real files in a temporary project directory (the working
// directory, as hazlua's is the project root).

// incr is a test project: a directory, its Store options, and counters
// of the bodies that ran.
type incr struct {
	t    *testing.T
	dir  string
	mu   sync.Mutex
	ran  []string
	warn []string
}

func newIncr(t *testing.T) *incr {
	t.Helper()
	x := &incr{t: t, dir: t.TempDir()}
	t.Chdir(x.dir)
	return x
}

// write writes a project file, an hour old (so the stat index trusts it).
func (x *incr) write(path, data string) {
	x.t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		x.t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
}

// task returns a task whose body records that it ran, prints a line and
// writes each output as "NAME from INPUTS".
func (x *incr) task(name string, inputs, outputs []string, deps ...string) *Task {
	return &Task{Name: name, Deps: deps, Inputs: inputs, Outputs: outputs, Source: "body of " + name,
		Run: func(ctx context.Context, tc *TaskContext) error {
			x.mu.Lock()
			x.ran = append(x.ran, name)
			x.mu.Unlock()
			fmt.Fprintf(tc.Stdout(), "%s says hello\n", name)
			fmt.Fprintf(tc.Stderr(), "%s warns\n", name)
			var in []string
			for _, p := range tc.Inputs() {
				b, _ := os.ReadFile(p)
				in = append(in, string(b))
			}
			for _, o := range outputs {
				os.MkdirAll(filepath.Dir(o), 0o755)
				if err := os.WriteFile(o, []byte(name+" from "+strings.Join(in, "+")), 0o644); err != nil {
					return err
				}
			}
			return nil
		}}
}

// run runs the graph's targets with a fresh Store (as a new hazlua run
// does) and returns the report, the bodies that ran (sorted) and the
// task output.
func (x *incr) run(mode Mode, g *Graph, targets ...string) (*Report, []string, string) {
	x.t.Helper()
	x.mu.Lock()
	x.ran = nil
	x.mu.Unlock()
	store := uptodate.Open(uptodate.Config{Dir: ".haz", Warn: func(m string) { x.warn = append(x.warn, m) }})
	o, stdout, stderr := newTestOutput(x.t, mode, false, true, false)
	r := Run(context.Background(), mustPlan(x.t, g, targets...), Options{Jobs: 2, Output: o, Store: store})
	if err := store.Close(); err != nil {
		x.t.Fatal(err)
	}
	slices.Sort(x.ran)
	return r, slices.Clone(x.ran), contents(x.t, stdout) + contents(x.t, stderr)
}

func (x *incr) graph() *Graph {
	return newGraph(x.t,
		x.task("gen", []string{"gen.txt"}, []string{"build/gen.h"}),
		x.task("a", []string{"src/a.c"}, []string{"build/a.o"}, "gen"),
		x.task("b", []string{"src/b.c"}, []string{"build/b.o"}, "gen"),
		agg("objs", "a", "b"),
		x.task("link", []string{}, []string{"build/app"}, "objs"),
		x.task("lint", nil, nil, "link"),
	)
}

func TestUpToDateRuns(t *testing.T) {
	x := newIncr(t)
	x.write("gen.txt", "v1")
	x.write("src/a.c", "a1")
	x.write("src/b.c", "b1")
	g := x.graph()

	r, ran, _ := x.run(Prefixed, g, "lint")
	if !slices.Equal(ran, []string{"a", "b", "gen", "link", "lint"}) {
		t.Fatalf("first run ran %q", ran)
	}
	// Nothing changed: only lint (no inputs) runs; objs is up to date too.
	r, ran, _ = x.run(Prefixed, g, "lint")
	if !slices.Equal(ran, []string{"lint"}) {
		t.Errorf("second run ran %q, want only lint", ran)
	}
	checkCauses(t, r, map[string]string{"gen": "up to date", "a": "up to date", "b": "up to date",
		"objs": "up to date", "link": "up to date", "lint": "succeeded"})
	if o := r.Outcome("a"); o.Ran || o.Reason != "" {
		t.Errorf("outcome of an up-to-date task: %+v", o)
	}

	// One input changes: exactly its task and what reads its output.
	x.write("src/a.c", "a2")
	r, ran, _ = x.run(Prefixed, g, "lint")
	if !slices.Equal(ran, []string{"a", "link", "lint"}) {
		t.Errorf("after changing src/a.c ran %q", ran)
	}
	if o := r.Outcome("a"); o.Reason != "input src/a.c changed" {
		t.Errorf("a's reason: %q", o.Reason)
	}
	if o := r.Outcome("link"); o.Reason != "dependency output build/a.o changed" {
		t.Errorf("link's reason: %q", o.Reason)
	}
	checkCauses(t, r, map[string]string{"gen": "up to date", "a": "succeeded", "b": "up to date",
		"objs": "succeeded", "link": "succeeded", "lint": "succeeded"})

	// gen reruns, writes the same output: its dependents stay up to date.
	x.write("gen.txt", "v1 ")
	x.tasks(g, "gen").Run = func(ctx context.Context, tc *TaskContext) error {
		x.mu.Lock()
		x.ran = append(x.ran, "gen")
		x.mu.Unlock()
		return os.WriteFile("build/gen.h", []byte("gen from v1"), 0o644)
	}
	_, ran, _ = x.run(Prefixed, g, "lint")
	if !slices.Equal(ran, []string{"gen", "lint"}) {
		t.Errorf("after gen rewrote the same output ran %q", ran)
	}
	if len(x.warn) > 0 {
		t.Errorf("warnings: %q", x.warn)
	}
}

// tasks returns the declared task named name.
func (x *incr) tasks(g *Graph, name string) *Task { return g.Task(name) }

// TestCachedReplaysOutput: a task restored from the cache is "cached",
// its outputs come back and its recorded output is written again, in
// every mode that passes output through hazlua.
func TestCachedReplaysOutput(t *testing.T) {
	for _, mode := range []Mode{Prefixed, Grouped} {
		t.Run(mode.String(), func(t *testing.T) {
			x := newIncr(t)
			x.write("src/a.c", "a1")
			g := newGraph(t, x.task("a", []string{"src/a.c"}, []string{"build/a.o"}))
			_, _, first := x.run(mode, g, "a")
			x.write("src/a.c", "a2")
			x.run(mode, g, "a")
			x.write("src/a.c", "a1")
			r, ran, again := x.run(mode, g, "a")
			if len(ran) != 0 {
				t.Errorf("ran %q, want a restore", ran)
			}
			checkCauses(t, r, map[string]string{"a": "cached"})
			if o := r.Outcome("a"); o.Reason != "input src/a.c changed" || o.Ran {
				t.Errorf("outcome: %+v", o)
			}
			if again != first {
				t.Errorf("replayed output:\n%s\nwant what the run printed:\n%s", again, first)
			}
			if b, _ := os.ReadFile("build/a.o"); string(b) != "a from a1" {
				t.Errorf("restored output: %q", b)
			}
		})
	}
}

func TestMissingOutputFails(t *testing.T) {
	x := newIncr(t)
	x.write("src/a.c", "a1")
	lazy := &Task{Name: "lazy", Pos: "build.lua:7", Inputs: []string{"src/a.c"}, Outputs: []string{"build/a.o"},
		Run: func(context.Context, *TaskContext) error { return nil }}
	g := newGraph(t, lazy, ok("after", "lazy"))
	r, _, _ := x.run(Prefixed, g, "after")
	checkCauses(t, r, map[string]string{"lazy": "failed", "after": "not run (dependency lazy failed)"})
	if err := r.Outcome("lazy").Err; err == nil || err.Error() != "build.lua:7: declared output build/a.o was not produced" {
		t.Errorf("error: %v", err)
	}
}

func TestOutputOverlap(t *testing.T) {
	out := func(name string, outputs ...string) *Task {
		return &Task{Name: name, Pos: "build.lua:" + name, Outputs: outputs}
	}
	tests := []struct {
		a, b []string
		want string // "" for no overlap
	}{
		{[]string{"build/app"}, []string{"build/app"}, `task "b": output build/app overlaps output build/app of task "a"`},
		{[]string{"build"}, []string{"./build/app"}, `output build/app overlaps output build of task "a"`},
		{[]string{"build/*.o"}, []string{"build/a.o"}, `task "b": output build/a.o overlaps output build/*.o of task "a"`},
		{[]string{"build/obj/**"}, []string{"build"}, `task "b": output build overlaps output build/obj/** of task "a"`},
		{[]string{"build/*.o"}, []string{"build/**/*.o"}, `output build/**/*.o overlaps output build/*.o`},
		{[]string{"build/a.o"}, []string{"build/b.o", "build/*.a"}, ""},
		{[]string{"build/a"}, []string{"build/ab"}, ""},
		{[]string{"out/*.o"}, []string{"build/*.o"}, ""},
	}
	for _, tt := range tests {
		g := newGraph(t, out("a", tt.a...), out("b", tt.b...))
		_, err := g.Plan([]string{"a", "b"})
		var ge *GraphError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q vs %q: %v", tt.a, tt.b, err)
		case tt.want != "" && (!errors.As(err, &ge) || ge.Kind != OutputOverlap || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q vs %q: error %v, want one containing %q", tt.a, tt.b, err, tt.want)
		}
	}
	// A task may name one path twice.
	if _, err := newGraph(t, out("a", "x", "./x")).Plan([]string{"a"}); err != nil {
		t.Errorf("one task, one path twice: %v", err)
	}
}

// TestOutputOverlapAtRunTime: two patterns that the declarations cannot
// tell apart produce the same file: the second task to finish fails with
// an OutputOverlap error.
func TestOutputOverlapAtRunTime(t *testing.T) {
	x := newIncr(t)
	writeX := func(context.Context, *TaskContext) error {
		os.MkdirAll("build", 0o755)
		return os.WriteFile("build/x.o", nil, 0o644)
	}
	g := newGraph(t,
		&Task{Name: "a", Outputs: []string{"build/[xz].o"}, Run: writeX},
		&Task{Name: "b", Deps: []string{"a"}, Outputs: []string{"build/[xy].o"}, Run: writeX})
	r, _, _ := x.run(Prefixed, g, "b")
	var ge *GraphError
	if o := r.Outcome("b"); o.Status != Failed || !errors.As(o.Err, &ge) || ge.Kind != OutputOverlap {
		t.Errorf("b: %v, %v", o.Status, o.Err)
	}
}

func TestReadsAnotherTasksOutput(t *testing.T) {
	x := newIncr(t)
	x.write("build/gen.h", "old")
	x.write("gen/x.h", "old")
	x.write("out/y.h", "old")
	g := newGraph(t,
		x.task("gen", nil, []string{"build/gen.h"}),
		x.task("gen2", nil, []string{"**/x.h"}),
		x.task("gen3", nil, []string{"out"}),
		x.task("good", []string{"build/gen.h", "gen/x.h", "out/y.h"}, nil, "gen", "gen2", "gen3"),
		x.task("bad", []string{"build/*.h"}, nil),
		x.task("worse", []string{"build/gen.h", "gen/x.h", "out/y.h"}, nil),
	)
	want := []string{
		"task bad reads build/gen.h, an output of task gen, without depending on it",
		"task worse reads build/gen.h, an output of task gen, without depending on it",
		"task worse reads gen/x.h, an output of task gen2, without depending on it",
		"task worse reads out/y.h, an output of task gen3, without depending on it",
	}
	o, _, stderr := newTestOutput(t, Prefixed, false, true, false)
	store := uptodate.Open(uptodate.Config{Dir: ".haz"})
	Run(context.Background(), mustPlan(t, g, "good", "bad", "worse"), Options{Jobs: 1, Output: o, Store: store})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	got := contents(t, stderr)
	for _, w := range want {
		if strings.Count(got, "hazlua: warning: "+w+"\n") != 1 {
			t.Errorf("stderr lacks (once) %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "task good reads") {
		t.Errorf("warned about a task that depends on the output's task:\n%s", got)
	}
}

func TestPredict(t *testing.T) {
	x := newIncr(t)
	x.write("gen.txt", "v1")
	x.write("src/a.c", "a1")
	x.write("src/b.c", "b1")
	g := x.graph()
	say := func() map[string]string {
		store := uptodate.Open(uptodate.Config{Dir: ".haz"})
		defer store.Close()
		m := map[string]string{}
		for _, p := range Predict(mustPlan(t, g, "lint"), store, nil) {
			m[p.Task.Name] = p.Action.String()
			if p.Reason != "" {
				m[p.Task.Name] += " (" + p.Reason + ")"
			}
		}
		return m
	}
	never := "will run (never ran)"
	if got, want := say(), map[string]string{"gen": never, "a": "will run (dependency gen will run)",
		"b": "will run (dependency gen will run)", "objs": "will run", "link": "will run (dependency a will run)",
		"lint": "will run (no inputs declared)"}; !mapsEqual(got, want) {
		t.Errorf("before the first run:\n%v\nwant\n%v", got, want)
	}
	x.run(Prefixed, g, "lint")
	x.write("src/b.c", "b2")
	os.Remove("build/gen.h")
	if got, want := say(), map[string]string{"gen": "will be restored from the cache (output build/gen.h missing)",
		"a": "up to date", "b": "will run (input src/b.c changed)", "objs": "will run",
		"link": "will run (dependency b will run)", "lint": "will run (no inputs declared)"}; !mapsEqual(got, want) {
		t.Errorf("after a change:\n%v\nwant\n%v", got, want)
	}
	if _, err := os.Stat("build/gen.h"); err == nil {
		t.Error("Predict restored an output")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRecordReplay: what a sink recorded replays, through another sink,
// into the same lines: long lines cut into pieces, a final partial line,
// both streams in order.
func TestRecordReplay(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	for _, mode := range []Mode{Prefixed, Grouped, Raw} {
		t.Run(mode.String(), func(t *testing.T) {
			o, stdout, stderr := newTestOutput(t, mode, false, true, false)
			s := o.Sink("t")
			s.Record()
			fmt.Fprint(s.Stdout(), "one\n", long, "\nthree")
			fmt.Fprint(s.Stderr(), "err\n")
			s.Close()
			rec, release, ok := s.TakeRecording()
			if mode == Raw {
				if ok {
					t.Error("raw mode recorded something")
				}
				return
			}
			if !ok {
				t.Fatal("nothing recorded")
			}
			defer release()
			wantOut, wantErr := contents(t, stdout), contents(t, stderr)
			o2, stdout2, stderr2 := newTestOutput(t, mode, false, true, false)
			s2 := o2.Sink("t")
			if err := s2.Replay(rec); err != nil {
				t.Fatal(err)
			}
			s2.Close()
			if got := contents(t, stdout2); got != wantOut {
				t.Errorf("stdout replayed:\n%q\nwant\n%q", got, wantOut)
			}
			if got := contents(t, stderr2); got != wantErr {
				t.Errorf("stderr replayed:\n%q\nwant\n%q", got, wantErr)
			}
			if err := s2.Replay(strings.NewReader("not a recording")); err == nil {
				t.Error("Replay of garbage succeeded")
			}
			quiet := o.Sink("quiet")
			quiet.Record()
			quiet.Close()
			if _, _, ok := quiet.TakeRecording(); ok {
				t.Error("a sink that was written nothing has a recording")
			}
		})
	}
}

func TestStatusLineCached(t *testing.T) {
	o := NewOutput(os.Stdout, os.Stderr, Prefixed, false, false, true)
	o.status.total, o.status.done, o.status.cached = 10, 3, 2
	o.status.running.PushBack("alpha")
	if got, want := string(o.renderStatus(nil)), "[3/10, 2 cached] running: alpha"; got != want {
		t.Errorf("status line %q, want %q", got, want)
	}
}

// TestSecondRunSkipsAll: twenty independent tasks, run twice: the second
// run starts no body.
func TestSecondRunSkipsAll(t *testing.T) {
	x := newIncr(t)
	var n atomic.Int32
	body := func(ctx context.Context, tc *TaskContext) error {
		n.Add(1)
		return nil
	}
	var tasks []*Task
	var names []string
	for i := range 20 {
		x.write(fmt.Sprintf("src/%d.c", i), "x")
		tasks = append(tasks, &Task{Name: fmt.Sprint("t", i), Inputs: []string{fmt.Sprintf("src/%d.c", i)}, Run: body})
		names = append(names, tasks[i].Name)
	}
	g := newGraph(t, tasks...)
	x.run(Prefixed, g, names...)
	r, _, _ := x.run(Prefixed, g, names...)
	if n.Load() != 20 || r.Count(UpToDate) != 20 {
		t.Errorf("%d bodies ran over two runs, %d up to date in the second; want 20 and 20", n.Load(), r.Count(UpToDate))
	}
}
