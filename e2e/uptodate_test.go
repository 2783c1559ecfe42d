package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of the up-to-date check and the cache (docs/api.md,
// "Up to date and the cache"): a small project whose tasks run real
// processes on real files, run again and again by the hazlua binary.

// projectLua is the project's build.lua. gen copies gen.txt into
// build/gen.h; each src/*.c is "compiled" (upper-cased) into build/NAME.o
// after gen; link concatenates the objects into build/app; test reads
// the app. Each body that runs appends its name to runs.log (not an
// output), so a test can tell a run from a restore, whose replayed output
// is the same. Outputs are written to a temporary name and renamed, as
// compilers do, so that two runs at once never see each other's half
// files.
const projectLua = `
local function step(name, cmd, ...)
  haz.run{"sh", "-c", 'echo $0 >> runs.log; ' .. cmd, name, ...}
end
haz.task("gen", {inputs = {"gen.txt"}, outputs = {"build/gen.h"}, run = function()
  haz.fs.mkdir("build")
  step("gen", 'echo generating; cp gen.txt build/gen.h.$$ && mv build/gen.h.$$ build/gen.h')
end})
local objs, compiles = {}, {}
for _, src in ipairs(haz.glob("src/*.c")) do
  local obj = "build/" .. haz.path.base(src):gsub("%.c$", ".o")
  objs[#objs + 1], compiles[#compiles + 1] = obj, obj
  haz.task(obj, {deps = {"gen"}, inputs = {src}, outputs = {obj}, env = {"CC"}, run = function()
    step(obj, 'echo "compiling $1"; echo warning >&2; tr a-z A-Z < "$1" > "$2.$$" && mv "$2.$$" "$2"', src, obj)
  end})
end
haz.task("link", {deps = compiles, inputs = {}, outputs = {"build/app"}, run = function()
  step("link", 'echo linking; cat "$@" > build/app.$$ && mv build/app.$$ build/app', unpack(objs))
end})
haz.task("test", {deps = {"link"}, inputs = {}, run = function()
  step("test", 'echo "testing $(wc -c < build/app) bytes"')
end})
haz.task("default", {deps = {"test"}})
`

// project is a checkout of the test project.
type project struct {
	t   *testing.T
	dir string
	env []string // extra environment for hazlua
}

// newProject writes the project into a new directory.
func newProject(t *testing.T) *project {
	t.Helper()
	p := &project{t: t, dir: writeRawScript(t, []byte(projectLua))}
	p.write("gen.txt", "#define GEN 1\n")
	p.write("src/a.c", "int a;\n")
	p.write("src/b.c", "int b;\n")
	return p
}

func (p *project) path(name string) string { return filepath.Join(p.dir, name) }

func (p *project) write(name, data string) {
	p.t.Helper()
	os.MkdirAll(filepath.Dir(p.path(name)), 0o755)
	if err := os.WriteFile(p.path(name), []byte(data), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) read(name string) string {
	b, err := os.ReadFile(p.path(name))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// result is one run of hazlua on the project.
type result struct {
	code           int
	stdout, stderr []string
	ran            []string          // bodies that ran (runs.log), sorted
	why            map[string]string // task → what --explain said
}

// run runs hazlua --explain -j2 args in the project, with the runs.log
// of this run only, and checks that stderr has no Go trace.
func (p *project) run(args ...string) *result {
	p.t.Helper()
	os.Remove(p.path("runs.log"))
	r := startHazlua(p.t, p.dir, nil, runOpts{wrap: p.wrap()}, append([]string{"--explain", "-j2"}, args...)...)
	res := &result{code: r.exitCode(p.t), stderr: r.stderrLines(p.t), why: map[string]string{}}
	checkNoGoTrace(p.t, res.stderr)
	if !r.stdout.waitEOF(deadline) {
		p.t.Fatal("stdout still open")
	}
	res.stdout = r.stdout.all()
	if log := p.read("runs.log"); !strings.HasPrefix(log, "(") {
		res.ran = strings.Fields(log)
		slices.Sort(res.ran)
	}
	for _, l := range res.stderr {
		if m := explainLine.FindStringSubmatch(l); m != nil {
			res.why[m[1]] = m[2]
		}
	}
	return res
}

var explainLine = regexp.MustCompile(`^hazlua: explain: (\S+): (.*)$`)

// wrap returns a wrapper that runs hazlua with p.env added.
func (p *project) wrap() []string {
	if len(p.env) == 0 {
		return nil
	}
	return append([]string{"env"}, p.env...)
}

// ok runs hazlua and fails the test unless it exits 0 having run exactly
// the bodies ran.
func (p *project) ok(ran []string, args ...string) *result {
	p.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.t.Fatalf("exit status %d; stderr:\n%s", r.code, strings.Join(r.stderr, "\n"))
	}
	ran = slices.Sorted(slices.Values(ran)) // a copy: callers share their lists
	if !slices.Equal(r.ran, ran) {
		p.t.Fatalf("ran %q, want %q; stderr:\n%s", r.ran, ran, strings.Join(r.stderr, "\n"))
	}
	return r
}

// checkWhy fails unless --explain said want (task → text) for these
// tasks.
func checkWhy(t *testing.T, r *result, want map[string]string) {
	t.Helper()
	for task, w := range want {
		if r.why[task] != w {
			t.Errorf("explain %s: %q, want %q", task, r.why[task], w)
		}
	}
}

var allTasks = []string{"gen", "build/a.o", "build/b.o", "link", "test"}

func upToDate(tasks ...string) map[string]string {
	m := map[string]string{}
	for _, t := range tasks {
		m[t] = "up to date"
	}
	return m
}

// TestUpToDateReasons walks the project through every reason a task runs
// or is restored, as --explain and -n say it, and checks that exactly the
// affected tasks run.
func TestUpToDateReasons(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	r := p.ok(allTasks)
	checkWhy(t, r, map[string]string{"gen": "will run (never ran)", "build/a.o": "will run (never ran)", "link": "will run (never ran)"})
	if !slices.Contains(r.stdout, "[test] testing 14 bytes") {
		t.Errorf("stdout: %q", r.stdout)
	}

	r = p.ok(nil)
	checkWhy(t, r, upToDate(allTasks...))
	if len(r.stdout) != 0 || !strings.HasPrefix(r.stderr[len(r.stderr)-1], "hazlua: 0 succeeded, 6 up to date in ") {
		t.Errorf("a run with nothing to do printed:\n%s\n%s", strings.Join(r.stdout, "\n"), strings.Join(r.stderr, "\n"))
	}

	// An input changes: its task, and what reads its output.
	p.write("src/a.c", "int aa;\n")
	r = p.ok([]string{"build/a.o", "link", "test"})
	checkWhy(t, r, map[string]string{"build/a.o": "will run (input src/a.c changed)", "build/b.o": "up to date", "gen": "up to date",
		"link": "will run (dependency output build/a.o changed)", "test": "will run (dependency output build/app changed)"})

	// An input appears: the glob in the script finds it, a new task.
	p.write("src/c.c", "int c;\n")
	r = p.ok([]string{"build/c.o", "link", "test"})
	checkWhy(t, r, map[string]string{"build/c.o": "will run (never ran)", "link": "will run (definition changed)"})
	os.Remove(p.path("src/c.c"))
	os.Remove(p.path("build/c.o"))
	r = p.ok(nil) // link's and test's fingerprints are back to what the cache holds
	checkWhy(t, r, map[string]string{"link": "will be restored from the cache (definition changed)",
		"test": "will be restored from the cache (dependency output build/app changed)"})

	// An output goes missing, or is edited: restored, not rebuilt.
	os.Remove(p.path("build/b.o"))
	r = p.ok(nil)
	checkWhy(t, r, map[string]string{"build/b.o": "will be restored from the cache (output build/b.o missing)", "link": "up to date"})
	if !slices.Contains(r.stdout, "[build/b.o] compiling src/b.c") || !slices.Contains(r.stderr, "[build/b.o] warning") {
		t.Errorf("a restored task's output was not replayed:\n%s\n%s", strings.Join(r.stdout, "\n"), strings.Join(r.stderr, "\n"))
	}
	if last := r.stderr[len(r.stderr)-1]; !strings.HasPrefix(last, "hazlua: 0 succeeded, 1 cached, 5 up to date in ") {
		t.Errorf("summary: %q", last)
	}
	p.write("build/app", "tampered")
	r = p.ok(nil)
	checkWhy(t, r, map[string]string{"link": "will be restored from the cache (output build/app changed since the last run)"})
	if got := p.read("build/app"); got != "INT AA;\nINT B;\n" {
		t.Errorf("restored build/app: %q", got)
	}

	// A declared environment variable.
	p.env = []string{"CC=clang"}
	r = p.ok([]string{"build/a.o", "build/b.o"})
	checkWhy(t, r, map[string]string{"build/a.o": "will run (env CC changed)", "link": "up to date"})

	// The definition: the body's text.
	p.write("build.lua", strings.Replace(projectLua, `'echo linking;`, `'echo linking now;`, 1))
	r = p.ok([]string{"link"})
	checkWhy(t, r, map[string]string{"link": "will run (definition changed)", "test": "up to date"})

	// -n predicts without running: a dependency that will run.
	p.write("gen.txt", "#define GEN 2\n")
	n := p.run("-n")
	want := []string{
		"1/6 gen: will run (input gen.txt changed)",
		"2/6 build/a.o: will run (dependency gen will run) after gen",
		"3/6 build/b.o: will run (dependency gen will run) after gen",
		"4/6 link: will run (dependency build/a.o will run) after build/a.o, build/b.o",
		"5/6 test: will run (dependency link will run) after link",
		"6/6 default: aggregate (dependencies only) after test",
	}
	if n.code != 0 || !slices.Equal(n.stdout, want) || len(n.ran) != 0 {
		t.Errorf("-n: exit %d, ran %q, stdout:\n%s\nwant:\n%s", n.code, n.ran, strings.Join(n.stdout, "\n"), strings.Join(want, "\n"))
	}
	p.ok([]string{"gen", "build/a.o", "build/b.o"}) // gen.h changed, the objects did not
}

// TestTouchCheckoutRewrite: touching every file, rewriting it with the
// same bytes, or replacing it by a copy (a new inode, as git checkout
// does) runs nothing; a changed byte does.
func TestTouchCheckoutRewrite(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.ok(allTasks)
	later := time.Now().Add(time.Minute)
	for _, f := range []string{"gen.txt", "src/a.c", "src/b.c", "build/gen.h", "build/a.o", "build/b.o", "build/app"} {
		os.Chtimes(p.path(f), later, later)
	}
	p.ok(nil)
	p.write("src/a.c", p.read("src/a.c"))
	p.write("build/app", p.read("build/app"))
	p.ok(nil)
	for _, f := range []string{"src/b.c", "gen.txt"} {
		data := p.read(f)
		os.Remove(p.path(f))
		p.write(f, data)
	}
	p.ok(nil)
	p.write("src/b.c", strings.ToUpper(p.read("src/b.c")))
	p.ok([]string{"build/b.o"}) // upper-cased already: same object, link stays
}

// TestGitStashRestores: a change built on top of a commit, stashed: the
// next run restores the committed state's outputs from the cache instead
// of rebuilding; popped again, the change's outputs are restored too.
func TestGitStashRestores(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	p := newProject(t)
	p.write(".gitignore", ".haz/\nbuild/\nruns.log\n")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = p.dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	p.ok(allTasks)
	p.write("src/a.c", "int changed;\n")
	p.ok([]string{"build/a.o", "link", "test"})
	git("stash", "-q")
	r := p.ok(nil)
	checkWhy(t, r, map[string]string{"build/a.o": "will be restored from the cache (input src/a.c changed)",
		"link": "will be restored from the cache (dependency output build/a.o changed)",
		"test": "will be restored from the cache (dependency output build/app changed)"})
	if !slices.Contains(r.stdout, "[test] testing 14 bytes") {
		t.Errorf("the restored test's output was not replayed: %q", r.stdout)
	}
	if got := p.read("build/app"); got != "INT A;\nINT B;\n" {
		t.Errorf("build/app after stash: %q", got)
	}
	git("stash", "pop", "-q")
	p.ok(nil)
	if got := p.read("build/app"); got != "INT CHANGED;\nINT B;\n" {
		t.Errorf("build/app after stash pop: %q", got)
	}
}

// TestSharedCache: two checkouts in two directories, one cache
// (HAZLUA_CACHE_DIR, or --cache-dir): what one built, the other restores.
// --no-cache runs everything and still records.
func TestSharedCache(t *testing.T) {
	t.Parallel()
	shared := t.TempDir()
	one, two, three := newProject(t), newProject(t), newProject(t)
	one.env = []string{"HAZLUA_CACHE_DIR=" + shared}
	two.env = one.env
	one.ok(allTasks)
	r := two.ok(nil)
	for _, task := range allTasks {
		if !strings.HasPrefix(r.why[task], "will be restored from the cache") {
			t.Errorf("second checkout: %s: %q", task, r.why[task])
		}
	}
	three.ok(nil, "--cache-dir", shared)
	three.ok(allTasks, "--no-cache", "--cache-dir", shared)
	three.ok(nil, "--cache-dir", shared)
	if _, err := os.Stat(three.path(".haz/cache")); err == nil {
		t.Error("a checkout with --cache-dir made .haz/cache too")
	}
}

// TestCorruptState: every file hazlua keeps, damaged in every way, is one
// warning line and a rerun (or a restore), never an error, a Go trace or
// a wrong result.
func TestCorruptState(t *testing.T) {
	t.Parallel()
	damage := map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"flipped": func(b []byte) []byte {
			if len(b) == 0 {
				return []byte{0}
			}
			b = slices.Clone(b)
			b[len(b)/3] ^= 0x20
			return b
		},
		"empty":   func([]byte) []byte { return nil },
		"garbage": func([]byte) []byte { return bytes.Repeat([]byte("garbage "), 100) },
		"foreign version": func(b []byte) []byte {
			b = slices.Clone(b)
			if i := bytes.IndexByte(b, 0); i >= 0 && i+1 < len(b) {
				b[i+1]++ // the binary files' version byte
			}
			return bytes.Replace(b, []byte(`"version":`), []byte(`"version":9`), 1)
		},
	}
	files := []struct {
		name string
		glob string // under .haz
		want string // the warning
	}{
		{"state", "state", "task state unreadable"},
		{"stat index", "stat", "stat index unreadable"},
		{"records", "records", "task records unreadable"},
		{"cache entry", "cache/entries/*", "running it"},
		{"cache blob", "cache/blobs/*", "running it"},
	}
	for _, f := range files {
		for how, fn := range damage {
			t.Run(f.name+"/"+how, func(t *testing.T) {
				t.Parallel()
				p := newProject(t)
				p.write("gen.txt", "")
				os.Remove(p.path("src/b.c"))
				p.ok([]string{"gen", "build/a.o", "link", "test"})
				// Make build/a.o look at what is damaged: a record is read
				// when an input changed, a cache entry when the fingerprint
				// is one seen before. The state and the index are read by
				// every run: losing them costs a restore or a rehash, and
				// nothing runs.
				var ran []string
				change := func() {}
				switch f.name {
				case "records":
					change = func() { p.write("src/a.c", "int x;\n") }
					ran = []string{"build/a.o", "link", "test"}
				case "cache entry", "cache blob":
					p.write("src/a.c", "int x;\n")
					p.ok([]string{"build/a.o", "link", "test"})
					change = func() { p.write("src/a.c", "int a;\n") }
					ran = []string{"build/a.o", "link", "test"}
				}
				matches, _ := filepath.Glob(filepath.Join(p.dir, ".haz", f.glob))
				if len(matches) == 0 {
					t.Fatalf("no .haz/%s", f.glob)
				}
				for _, m := range matches {
					data, err := os.ReadFile(m)
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(m, fn(data), 0o644)
				}
				change()
				r := p.run()
				if r.code != 0 {
					t.Fatalf("exit %d:\n%s", r.code, strings.Join(r.stderr, "\n"))
				}
				var warnings []string
				for _, l := range r.stderr {
					if strings.HasPrefix(l, "hazlua: warning: ") {
						warnings = append(warnings, l)
					}
				}
				if f.name != "cache blob" || how != "foreign version" { // a blob has no version: it may still verify
					if len(warnings) != 1 || !strings.Contains(warnings[0], f.want) {
						t.Errorf("warnings %q, want one about %q", warnings, f.want)
					}
				}
				if len(warnings) > 0 && !slices.Equal(r.ran, ran) {
					t.Errorf("ran %q, want %q", r.ran, ran)
				}
				if got := p.read("build/app"); got != "INT A;\n" && got != "INT X;\n" {
					t.Errorf("build/app = %q", got)
				}
				p.ok(nil) // and then all is well again
			})
		}
	}
}

// TestTwoRunsAtOnce: two hazlua runs on one project at the same time both
// succeed, and leave .haz whole: a third run has nothing to do and no
// warning.
func TestTwoRunsAtOnce(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	for i := range 5 {
		p.write(fmt.Sprintf("src/m%d.c", i), fmt.Sprintf("int m%d;\n", i))
	}
	for round := range 3 {
		var runs []*hazluaRun
		for range 2 {
			runs = append(runs, startHazlua(t, p.dir, nil, runOpts{}, "-j2"))
		}
		for i, r := range runs {
			code := r.exitCode(t)
			lines := r.stderrLines(t)
			checkNoGoTrace(t, lines)
			if code != 0 {
				t.Fatalf("round %d, run %d: exit %d:\n%s", round, i, code, strings.Join(lines, "\n"))
			}
			for _, l := range lines {
				if strings.HasPrefix(l, "hazlua: warning") {
					t.Errorf("round %d, run %d: %s", round, i, l)
				}
			}
		}
		r := p.ok(nil)
		for task, why := range r.why {
			if why != "up to date" {
				t.Errorf("round %d: after two runs at once, %s: %s", round, task, why)
			}
		}
		p.write("src/a.c", fmt.Sprintf("int a%d;\n", round))
	}
}

// TestUnusableCache: a read-only or full cache directory is one warning;
// the tasks run and are recorded.
func TestUnusableCache(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"read-only", "full"} {
		t.Run(kind, func(t *testing.T) {
			dir := tinyTmpfs(t, "64k")
			if kind == "read-only" {
				if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
					t.Skipf("remount read-only: %v", err)
				}
			}
			p := newProject(t)
			p.write("src/big.c", strings.Repeat("int x;\n", 20000)) // 140 KB: does not fit
			r := p.ok(append(slices.Clone(allTasks), "build/big.o"), "--cache-dir", dir)
			var warnings []string
			for _, l := range r.stderr {
				if strings.HasPrefix(l, "hazlua: warning: ") {
					warnings = append(warnings, l)
				}
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "running without the cache") {
				t.Errorf("warnings: %q", warnings)
			}
			p.ok(nil, "--cache-dir", dir)
		})
	}
}

// TestRuntimeChecks: overlapping outputs (exit 2, naming both tasks), a
// missing output (the task fails, naming it) and an input that is another
// task's output without a dependency on it (a warning).
func TestRuntimeChecks(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(`
haz.task("a", {outputs = {"out/x"}, run = function() end})
haz.task("b", {outputs = {"out"}, run = function() end})
`))
	code, _, stderr := runScript(t, dir, runOpts{}, "a")
	if code != 2 || len(stderr) != 1 || stderr[0] != `hazlua: build.lua:3: task "b": output out overlaps output out/x of task "a" (build.lua:2)` {
		t.Errorf("overlap: exit %d, stderr %q", code, stderr)
	}
	dir = writeRawScript(t, []byte(`
haz.fs.write("gen.h", "old")
haz.task("gen", {outputs = {"gen.h"}, run = function() haz.fs.write("gen.h", "") end})
haz.task("lazy", {inputs = {}, outputs = {"out/lazy"}, run = function() end})
haz.task("reader", {inputs = {"gen.h"}, run = function() end})
haz.task("default", {deps = {"gen", "lazy"}, run = function() end})
`))
	code, _, stderr = runScript(t, dir, runOpts{}, "-j1", "default", "reader")
	want := []string{
		"hazlua: warning: task reader reads gen.h, an output of task gen, without depending on it",
		"hazlua: task lazy failed: build.lua:4: declared output out/lazy was not produced",
	}
	for _, w := range want {
		if !slices.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, strings.Join(stderr, "\n"))
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}

// bigLua has a task "big" that writes a 256 MiB output, and a small one
// that makes the cache exist, so that a test can watch its tmp directory.
const bigLua = `
haz.task("small", {inputs = {}, outputs = {"out/small"}, run = function()
  haz.fs.mkdir("out")
  haz.fs.write("out/small", "small")
end})
haz.task("big", {inputs = {}, outputs = {"out/big"}, run = function()
  haz.fs.mkdir("out")
  haz.run{"dd", "if=/dev/zero", "of=out/big", "bs=1M", "count=256", "status=none"}
end})
`

// bigSize is the size of big's output.
const bigSize = 256 << 20

// TestKillDuringStore: hazlua SIGKILLed while it copies an output into
// the cache leaves no entry (the next run runs the task: a miss, not a
// half restore), and the next run cleans the temporary files up.
func TestKillDuringStore(t *testing.T) {
	t.Parallel()
	skipIfShort(t, "writes and copies 256 MiB")
	dir := writeRawScript(t, []byte(bigLua))
	if code, _, stderr := runScript(t, dir, runOpts{}, "-q", "small"); code != 0 {
		t.Fatalf("small: exit %d: %q", code, stderr)
	}
	w := watchDir(t, filepath.Join(dir, ".haz", "cache", "tmp"))
	r := startHazlua(t, dir, nil, runOpts{}, "-q", "big")
	w.waitName(t, "a blob being stored", func(n string) bool {
		return strings.HasPrefix(n, ".haz-tmp-") && !strings.Contains(n, "probe") // Open's check that it can write
	})
	r.cmd.Process.Kill()
	r.wait(t)
	if left := dirNames(filepath.Join(dir, ".haz", "cache", "tmp")); len(left) == 0 {
		t.Error("no temporary file after the kill: the store was over before it, so this test tested nothing")
	}
	code, stdout, stderr := runScript(t, dir, runOpts{}, "--explain", "--cache-stats")
	if code != 0 || len(stdout) != 1 || !strings.Contains(stdout[0], ": 1 entries") {
		t.Errorf("after the kill: exit %d, %q, %q; want the small task's entry only", code, stdout, stderr)
	}
	code, _, stderr = runScript(t, dir, runOpts{}, "--explain", "big")
	if code != 0 || !slices.Contains(stderr, "hazlua: explain: big: will run (never ran)") {
		t.Errorf("the run after the kill: exit %d:\n%s", code, strings.Join(stderr, "\n"))
	}
	if left := dirNames(filepath.Join(dir, ".haz", "cache", "tmp")); len(left) != 0 {
		t.Errorf("temporary files left in the cache after the next run: %q", left)
	}
}

// TestKillDuringRestore: hazlua SIGKILLed while it restores an output
// leaves the output missing or whole, never half written; the next run
// ends with the whole output.
func TestKillDuringRestore(t *testing.T) {
	t.Parallel()
	skipIfShort(t, "writes and copies 256 MiB")
	dir := writeRawScript(t, []byte(bigLua))
	if code, _, stderr := runScript(t, dir, runOpts{}, "-q", "big"); code != 0 {
		t.Fatalf("big: exit %d: %q", code, stderr)
	}
	big := filepath.Join(dir, "out", "big")
	want, _ := fileSHA256(t, big)
	os.Remove(big)
	w := watchDir(t, filepath.Join(dir, "out"))
	r := startHazlua(t, dir, nil, runOpts{}, "-q", "big")
	staged := w.waitName(t, "the output being staged", func(n string) bool { return strings.HasPrefix(n, ".big.haz-tmp-") })
	r.cmd.Process.Kill()
	r.wait(t)
	if _, err := os.Stat(filepath.Join(dir, "out", staged)); err != nil {
		t.Errorf("the staged file is gone after the kill (%v): the restore was over before it, so this test tested nothing", err)
	}
	check := func(when string) {
		t.Helper()
		if fi, err := os.Stat(big); err == nil {
			if got, n := fileSHA256(t, big); got != want || n != bigSize {
				t.Errorf("%s: out/big is %d bytes, hash %s: a half output", when, n, got)
			}
		} else if !os.IsNotExist(err) {
			t.Errorf("%s: %v (%v)", when, err, fi)
		}
	}
	check("after the kill")
	code, _, stderr := runScript(t, dir, runOpts{}, "--explain", "big")
	if code != 0 {
		t.Errorf("the run after the kill: exit %d:\n%s", code, strings.Join(stderr, "\n"))
	}
	if _, err := os.Stat(big); err != nil {
		t.Errorf("out/big after the next run: %v", err)
	}
	check("after the next run")
}
