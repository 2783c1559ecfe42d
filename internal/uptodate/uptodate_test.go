package uptodate

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// project is a test project: a temporary directory that is the working
// directory (paths in specs are relative to it), and its Store.
type project struct {
	t        *testing.T
	dir      string
	s        *Store
	cfg      Config
	warnings []string
	mu       sync.Mutex
}

// newProject makes an empty project and opens its Store.
func newProject(t *testing.T) *project {
	t.Helper()
	p := &project{t: t, dir: t.TempDir()}
	t.Chdir(p.dir)
	p.cfg = Config{Dir: StateDir, Warn: func(msg string) {
		p.mu.Lock()
		p.warnings = append(p.warnings, msg)
		p.mu.Unlock()
	}}
	p.s = Open(p.cfg)
	return p
}

// reopen closes the Store and opens a new one, as the next run does.
func (p *project) reopen() {
	p.t.Helper()
	if err := p.s.Close(); err != nil {
		p.t.Fatal(err)
	}
	p.s = Open(p.cfg)
}

// write writes a file (making its directory), with an mtime an hour old
// so that the stat index trusts it.
func (p *project) write(path, data string) {
	p.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		p.t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		p.t.Fatal(err)
	}
}

// read returns a file's contents, or "(missing)".
func (p *project) read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(missing)"
	}
	return string(b)
}

// check runs Check and fails unless it decides want with reason why.
func (p *project) check(sp *Spec, deps []fingerprint.DepOutput, want Action, why string) *Check {
	p.t.Helper()
	c := p.s.Check(sp, deps)
	if c.Action != want || c.Reason != why {
		p.t.Fatalf("Check(%s) = %v (%q), want %v (%q)", sp.Name, c.Action, c.Reason, want, why)
	}
	return c
}

// build runs the task sp as a runner would after Check decided Run: the
// body (body writes the outputs) and Commit with log as the output.
func (p *project) build(sp *Spec, deps []fingerprint.DepOutput, body func()) []fingerprint.File {
	p.t.Helper()
	c := p.s.Check(sp, deps)
	if c.Action != Run {
		p.t.Fatalf("build %s: Check = %v, want Run", sp.Name, c.Action)
	}
	body()
	files, err := p.s.Commit(sp, c, strings.NewReader("log of "+sp.Name), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	p.s.waitStores() // the next Check may look for what was stored
	return files
}

// compile is a task that "compiles" src/a.c into build/a.o.
func compile() *Spec {
	return &Spec{Name: "compile", Inputs: []string{"src/*.c"}, Outputs: []string{"build/a.o"},
		Key: "cc -O2", Env: []string{"HAZ_TEST_CC"}, Source: "function() cc(src) end"}
}

func (p *project) compileBody() func() {
	return func() { p.write("build/a.o", "object of "+p.read("src/a.c")) }
}

func TestReasons(t *testing.T) {
	t.Setenv("HAZ_TEST_CC", "gcc")
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	p.check(sp, nil, Run, ReasonNeverRan)
	p.build(sp, nil, p.compileBody())
	p.check(sp, nil, UpToDate, "")
	p.reopen()
	c := p.check(sp, nil, UpToDate, "")
	if len(c.Outputs) != 1 || c.Outputs[0].Path != "build/a.o" {
		t.Errorf("up to date: Outputs = %v", c.Outputs)
	}
	if !slices.Equal(c.Inputs, []string{"src/a.c"}) {
		t.Errorf("Inputs = %q", c.Inputs)
	}

	// Each change, then back: up to date again without running.
	steps := []struct {
		why    string
		change func()
		undo   func()
	}{
		{"input src/a.c changed", func() { p.write("src/a.c", "int b;") }, func() { p.write("src/a.c", "int a;") }},
		{"input src/b.c added", func() { p.write("src/b.c", "") }, func() { os.Remove("src/b.c") }},
		{"env HAZ_TEST_CC changed", func() { os.Setenv("HAZ_TEST_CC", "clang") }, func() { os.Setenv("HAZ_TEST_CC", "gcc") }},
		{"env HAZ_TEST_CC changed", func() { os.Unsetenv("HAZ_TEST_CC") }, func() { os.Setenv("HAZ_TEST_CC", "gcc") }},
		{"definition changed", func() { sp.Key = "cc -O3" }, func() { sp.Key = "cc -O2" }},
		{"definition changed", func() { sp.Source = "function() cc(src, '-g') end" }, func() { sp.Source = "function() cc(src) end" }},
		{"output build/a.o missing", func() { os.Rename("build/a.o", "a.o.saved") }, func() { os.Rename("a.o.saved", "build/a.o") }},
		{"output build/a.o changed since the last run", func() { p.write("build/a.o", "edited") }, func() { p.write("build/a.o", "object of int a;") }},
		{"output build/a.o changed since the last run", func() { os.Chmod("build/a.o", 0o755) }, func() { os.Chmod("build/a.o", 0o644) }},
	}
	for _, st := range steps {
		st.change()
		c := p.s.Check(sp, nil)
		if c.Reason != st.why || c.Action == UpToDate {
			t.Errorf("after the change for %q: %v (%q)", st.why, c.Action, c.Reason)
		}
		st.undo()
		p.check(sp, nil, UpToDate, "")
	}
	if len(p.warnings) > 0 {
		t.Errorf("warnings: %q", p.warnings)
	}
}

// TestTouchAndRewrite: a touched input, an identical rewrite and a
// checkout of the same content (a new inode) leave the task up to date,
// read again (the stat changed) but not run; a changed byte makes it run.
func TestTouchAndRewrite(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	p.build(sp, nil, p.compileBody())
	p.reopen()
	now := time.Now()
	os.Chtimes("src/a.c", now, now)
	p.check(sp, nil, UpToDate, "")
	p.write("src/a.c", "int a;")
	p.check(sp, nil, UpToDate, "")
	os.Remove("src/a.c")
	p.write("src/a.c", "int a;")
	p.check(sp, nil, UpToDate, "")
	if s := p.s.Index().Stats(); s.Hashed < 3 {
		t.Errorf("index stats %+v: the changed stats were not rehashed", s)
	}
	p.write("src/a.c", "int A;") // same size, same mtime as the last write
	p.check(sp, nil, Run, "input src/a.c changed")
}

func TestDependencyOutputs(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	deps := []fingerprint.DepOutput{{Task: "gen", Path: "build/gen.h", Hash: fingerprint.HashBytes([]byte("v1"))}}
	p.build(sp, deps, p.compileBody())
	p.check(sp, deps, UpToDate, "")
	deps2 := []fingerprint.DepOutput{{Task: "gen", Path: "build/gen.h", Hash: fingerprint.HashBytes([]byte("v2"))}}
	p.check(sp, deps2, Run, "dependency output build/gen.h changed")
	p.check(sp, nil, Run, "dependency output build/gen.h removed")
}

func TestRestore(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	want := p.build(sp, nil, p.compileBody())
	p.reopen()

	// Another branch: a new input, built; then back: restored, not run.
	p.write("src/a.c", "int b;")
	p.build(sp, nil, p.compileBody())
	p.write("src/a.c", "int a;")
	c := p.check(sp, nil, Restore, "input src/a.c changed")
	if len(c.Outputs) != 1 || c.Outputs[0] != want[0] {
		t.Errorf("restore: Outputs = %v, want %v", c.Outputs, want)
	}
	log, err := p.s.Restore(sp, c)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(log)
	log.Close()
	if string(got) != "log of compile" {
		t.Errorf("log = %q", got)
	}
	if got := p.read("build/a.o"); got != "object of int a;" {
		t.Errorf("restored output: %q", got)
	}
	p.check(sp, nil, UpToDate, "")
	p.reopen()
	p.check(sp, nil, UpToDate, "")
}

func TestAlwaysAndNoCache(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	sp.Always = true
	p.build(sp, nil, p.compileBody())
	p.check(sp, nil, Run, ReasonAlways)
	sp.Always = false
	p.check(sp, nil, Run, ReasonNeverRan) // an always task is not recorded

	p.cfg.NoCache = true
	p.reopen()
	p.build(sp, nil, p.compileBody())
	p.check(sp, nil, Run, ReasonNoCache)
	p.cfg.NoCache = false
	p.reopen()
	p.check(sp, nil, UpToDate, "") // --no-cache recorded the success

	nothing := &Spec{Name: "lint"}
	p.check(nothing, nil, Run, ReasonNoInputs)
}

func TestMissingOutput(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	for _, outputs := range [][]string{{"build/a.o"}, {"build/*.o"}, {"build/a.o", "build/b.o"}} {
		sp := &Spec{Name: "compile", Inputs: []string{"src/*.c"}, Outputs: outputs}
		c := p.s.Check(sp, nil)
		os.RemoveAll("build")
		_, err := p.s.Commit(sp, c, nil, nil)
		var missing *MissingOutputError
		if !errors.As(err, &missing) || !strings.Contains(err.Error(), "declared output build/") {
			t.Errorf("outputs %q, none produced: Commit error %v", outputs, err)
		}
	}
	// Without inputs: checked too, and the outputs are returned.
	p.write("build/a.o", "x")
	sp := &Spec{Name: "gen", Outputs: []string{"build/a.o"}}
	files, err := p.s.Commit(sp, p.s.Check(sp, nil), nil, nil)
	if err != nil || len(files) != 1 {
		t.Errorf("Commit without inputs: %v, %v", files, err)
	}
}

// TestCorruptState: a corrupt state, record or cache entry is a warning
// and a run, never an error or a wrong skip.
func TestCorruptState(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	p.build(sp, nil, p.compileBody())
	p.reopen()

	os.WriteFile(filepath.Join(StateDir, stateFile), []byte("garbage"), 0o644)
	p.reopen()
	if len(p.warnings) != 1 || !strings.Contains(p.warnings[0], "task state unreadable") {
		t.Fatalf("warnings after a corrupt state: %q", p.warnings)
	}
	p.check(sp, nil, Restore, ReasonNeverRan) // the cache still has it
	os.RemoveAll(filepath.Join(StateDir, CacheSubdir))
	p.reopen()
	p.check(sp, nil, Run, ReasonNeverRan)
	p.build(sp, nil, p.compileBody())
	p.reopen()

	os.WriteFile(filepath.Join(StateDir, recordsFile), []byte("{"), 0o644)
	p.reopen()
	p.warnings = nil
	p.write("src/a.c", "int b;")
	p.check(sp, nil, Run, "fingerprint changed")
	if len(p.warnings) != 1 || !strings.Contains(p.warnings[0], "task records unreadable") {
		t.Errorf("warnings after a corrupt records file: %q", p.warnings)
	}
}

// TestNoopReadsNoRecords: a run in which every task is up to date never
// reads the records file (it is only for saying what changed).
func TestNoopReadsNoRecords(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	sp := compile()
	p.build(sp, nil, p.compileBody())
	p.reopen()
	os.WriteFile(filepath.Join(StateDir, recordsFile), []byte("garbage"), 0o644)
	p.reopen()
	p.check(sp, nil, UpToDate, "")
	if len(p.warnings) != 0 || p.s.records.rs != nil {
		t.Errorf("an up-to-date check read the records: warnings %q", p.warnings)
	}
}

// TestConcurrentCloses: two runs that each recorded a task keep both
// records when they save at once.
func TestConcurrentCloses(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	p.write("src/b.c", "int b;")
	one, two := Open(p.cfg), Open(p.cfg)
	a := &Spec{Name: "a", Inputs: []string{"src/a.c"}, Outputs: []string{"out/a"}}
	b := &Spec{Name: "b", Inputs: []string{"src/b.c"}, Outputs: []string{"out/b"}}
	p.write("out/a", "a")
	p.write("out/b", "b")
	for _, x := range []struct {
		s  *Store
		sp *Spec
	}{{one, a}, {two, b}} {
		if _, err := x.s.Commit(x.sp, x.s.Check(x.sp, nil), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range []*Store{one, two} {
		wg.Go(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	p.s = Open(p.cfg)
	p.check(a, nil, UpToDate, "")
	p.check(b, nil, UpToDate, "")
}

func TestStateDirIgnored(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	p.build(compile(), nil, p.compileBody())
	p.reopen()
	if got := p.read(filepath.Join(StateDir, ".gitignore")); !strings.HasSuffix(got, "\n*\n") {
		t.Errorf(".haz/.gitignore = %q, want it to ignore everything", got)
	}
}

// TestCommitReleasesLog: Commit owns the log it is given: it releases it
// once stored (in the background, by Close at the latest), or at once
// when nothing is stored.
func TestCommitReleasesLog(t *testing.T) {
	p := newProject(t)
	p.write("src/a.c", "int a;")
	p.write("build/a.o", "obj")
	released := 0
	release := func() { released++ }
	sp := compile()
	if _, err := p.s.Commit(sp, p.s.Check(sp, nil), strings.NewReader("log"), release); err != nil {
		t.Fatal(err)
	}
	if err := p.s.Close(); err != nil {
		t.Fatal(err)
	}
	if released != 1 {
		t.Errorf("a stored log released %d times, want once by Close", released)
	}
	p.s = Open(p.cfg)
	gen := &Spec{Name: "gen", Outputs: []string{"build/a.o"}} // no inputs: nothing stored
	if _, err := p.s.Commit(gen, p.s.Check(gen, nil), strings.NewReader("log"), release); err != nil {
		t.Fatal(err)
	}
	if released != 2 {
		t.Errorf("an unstored log released %d times in all, want 2", released)
	}
}
