package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseOnlyCache(t *testing.T) {
	set, err := parseOnly("cache")
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != len(cacheNames) {
		t.Errorf("selected %v", set)
	}
	for _, name := range cacheNames {
		if !set[name] || !isBenchmark(name) {
			t.Errorf("%s not selected or not a benchmark", name)
		}
	}
}

func TestCacheGraphText(t *testing.T) {
	if got, want := luaCacheGraph(2, 2), `haz.task("o1", {inputs = {"in/i1_1", "in/i1_2"}, outputs = {"out/o1"}, run = function() haz.run{stdout = {file = "out/o1"}, "cat", "in/i1_1", "in/i1_2"} end})
haz.task("o2", {inputs = {"in/i2_1", "in/i2_2"}, outputs = {"out/o2"}, run = function() haz.run{stdout = {file = "out/o2"}, "cat", "in/i2_1", "in/i2_2"} end})
haz.task("all", {deps = {"o1", "o2"}})
`; got != want {
		t.Errorf("luaCacheGraph:\n%s\nwant\n%s", got, want)
	}
	if got := luaCacheGraphLoop(3, 4); !strings.Contains(got, "for i = 1, 3 do") || !strings.Contains(got, "for j = 1, 4 do") ||
		!strings.Contains(got, `haz.run{stdout = {file = out}, "cat", unpack(ins)}`) {
		t.Errorf("luaCacheGraphLoop:\n%s", got)
	}
	if got, want := ninjaCacheGraph(2, 2), "rule cat\n  command = cat $in > $out\nbuild out/o1: cat in/i1_1 in/i1_2\nbuild out/o2: cat in/i2_1 in/i2_2\nbuild all: phony out/o1 out/o2\n"; got != want {
		t.Errorf("ninjaCacheGraph: %q", got)
	}
	if got, want := goTaskCacheGraph(1, 2), "version: '3'\ntasks:\n  o1:\n    method: checksum\n    sources: [in/i1_1, in/i1_2]\n    generates: [out/o1]\n    cmds:\n      - cat in/i1_1 in/i1_2 > out/o1\n  all:\n    deps: [o1]\n"; got != want {
		t.Errorf("goTaskCacheGraph: %q", got)
	}
	if got := allCacheInputs(2, 3); len(got) != 6 || got[0] != "in/i1_1" || got[5] != "in/i2_3" {
		t.Errorf("allCacheInputs: %v", got)
	}
}

func TestCSources(t *testing.T) {
	files := cSources(3)
	if len(files) != 3 || !strings.Contains(files["src/main.c"], "s += f2(argc);") || !strings.Contains(files["src/f1.c"], "int f1(int x)") {
		t.Errorf("cSources: %v", files)
	}
}

func TestRestoreScripts(t *testing.T) {
	for _, s := range []string{luaRestoreFiles(5, 1600), luaRestoreDir(5, 1600)} {
		if !strings.Contains(s, `haz.fs.exists("no-run")`) || !strings.Contains(s, "1600)") || !strings.Contains(s, "1, 5 do") {
			t.Errorf("restore script:\n%s", s)
		}
	}
}

func TestStripInputs(t *testing.T) {
	src := `haz.task("a", {inputs = {}, outputs = {"a"}, run = function(t) print(t.inputs) end})
haz.task("b", {
  deps = {"a"},
  inputs = {src, SRC .. "/*.h", "x}y"},
  outputs = {obj},
})
haz.task("c", {deps = {"b"}, inputs = {}})
-- comment: inputs = {} here stays
local inputs_list = {}
x = {inputs={"p"};outputs={"q"}}
`
	want := `haz.task("a", {outputs = {"a"}, run = function(t) print(t.inputs) end})
haz.task("b", {
  deps = {"a"},
  outputs = {obj},
})
haz.task("c", {deps = {"b"}, })
-- comment: inputs = {} here stays
local inputs_list = {}
x = {outputs={"q"}}
`
	got, n := stripInputs(src)
	if got != want || n != 4 {
		t.Errorf("stripInputs: removed %d\n%s\nwant\n%s", n, got, want)
	}
	got, n = stripInputs(luaCBuild)
	if n != 2 || strings.Contains(got, "inputs =") || !strings.Contains(got, "haz.task(name, {outputs = {obj}, run = function()") ||
		!strings.Contains(got, `haz.task("link", {deps = compiles, outputs = {"build/app"}, run`) {
		t.Errorf("stripInputs(luaCBuild): removed %d\n%s", n, got)
	}
	if got, n := stripInputs("no fields here"); n != 0 || got != "no fields here" {
		t.Errorf("no fields: %d %q", n, got)
	}
}

func TestParseExplainAndPlan(t *testing.T) {
	explain := "hazlua: explain: o1: up to date\nhazlua: explain: compile:src/a.c: will run (input src/a.c changed)\nother line\nhazlua: 0 succeeded, 2 up to date in 0.00s\n"
	st := parseExplain(explain)
	if len(st) != 2 || st["o1"] != "up to date" || st["compile:src/a.c"] != "will run (input src/a.c changed)" {
		t.Errorf("parseExplain: %v", st)
	}
	plan := "1/3 version: up to date\n2/3 compile:main: will run (no inputs declared) after version\n3/3 build: aggregate (dependencies only) after compile:main\n"
	st = parsePlan(plan)
	if len(st) != 2 || st["version"] != "up to date" || !strings.HasPrefix(st["compile:main"], "will run (no inputs declared)") {
		t.Errorf("parsePlan: %v", st)
	}
	if err := checkStatuses(map[string]string{"a": "up to date", "b": "up to date"}, 2, "up to date"); err != nil {
		t.Error(err)
	}
	if err := checkStatuses(map[string]string{"a": "up to date", "b": "will run (input x changed)"}, 2, "up to date"); err == nil || !strings.Contains(err.Error(), "b: will run (input x changed)") {
		t.Errorf("not up to date: %v", err)
	}
	if err := checkStatuses(map[string]string{"a": "up to date"}, 2, "up to date"); err == nil || !strings.Contains(err.Error(), "1 tasks reported, want 2") {
		t.Errorf("missing task: %v", err)
	}
}

func TestCacheFileChecks(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := writeCacheGraphInputs([]string{dir}, 2, 2, 100, t0); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "in/i1_1"))
	b, _ := os.ReadFile(filepath.Join(dir, "in/i1_2"))
	if len(a) != 100 || string(a) == string(b) {
		t.Errorf("inputs not distinct or wrong size: %d bytes", len(a))
	}
	if st, err := os.Stat(filepath.Join(dir, "in/i2_2")); err != nil || !st.ModTime().Equal(t0) {
		t.Errorf("input mtime: %v %v", st, err)
	}
	outs := under(dir, mapN(2, cacheOutput))
	for _, o := range outs {
		if err := os.WriteFile(o, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := setMtimes(outs, t0.Add(cacheOutputOffset)); err != nil {
		t.Fatal(err)
	}
	if err := outputsAt(dir, 2, t0.Add(cacheOutputOffset))(); err != nil {
		t.Error(err)
	}
	touched := time.Now()
	if err := outputsAfter(dir, 2, &touched)(); err == nil {
		t.Error("outputsAfter: old outputs passed")
	}
	if err := os.WriteFile(outs[1], []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := outputsAt(dir, 2, t0.Add(cacheOutputOffset))(); err == nil || !strings.Contains(err.Error(), "out/o2 was rewritten") {
		t.Errorf("rewritten output: %v", err)
	}
	if err := checkTree(filepath.Join(dir, "in"), 4, 100)(); err != nil {
		t.Error(err)
	}
	if err := checkTree(filepath.Join(dir, "in"), 5, 100)(); err == nil {
		t.Error("checkTree: wrong count passed")
	}
	if got := touchTime(t0, 3); !got.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("touchTime: %v", got)
	}
}

func TestHooksAroundRuns(t *testing.T) {
	var befores, afters int
	ok := variant{label: "ok", argv: []string{"true"}, before: func() error { befores++; return nil }, after: func() error { afters++; return nil }}
	bad := variant{label: "bad", argv: []string{"true"}, after: func() error { return errors.New("not a no-op") }}
	br := runBenchmark(benchmark{name: "t", variants: []variant{ok, bad}}, config{rounds: 2}, toolSet{}, t.TempDir())
	if befores != 3 || afters != 3 || !br.results[0].ok() || len(br.results[0].walls) != 2 {
		t.Errorf("ok: before %d after %d, result %+v", befores, afters, br.results[0])
	}
	if r := br.results[1]; r.ok() || !strings.Contains(r.err, "after the run: not a no-op") {
		t.Errorf("bad: err %q", r.err)
	}
}

func TestEvaluateCache(t *testing.T) {
	res := func(key string, tasks, d int, rss int64) *variantResult {
		return &variantResult{variant: variant{key: key, label: key, tasks: tasks}, walls: []time.Duration{time.Duration(d) * time.Millisecond},
			fastest: time.Duration(d) * time.Millisecond, rss: []int64{rss}}
	}
	sz := sizes{cacheTasks: 1000, cacheInputs: 10, cacheInputBytes: 10 * kib, cacheCFiles: 200, cacheRestoreFiles: 1000, cacheRestoreBytes: 100 * kib}
	noop := benchResult{bench: benchmark{name: "cache-noop"}, results: []*variantResult{
		res(keyHazlua, 1000, 30, 60*mib), res(keyHazluaLoop, 1000, 14, 20*mib), res(keyNinja, 1000, 10, mib), res(keyGoTask, 100, 50, 50*mib),
	}}
	rows := evaluateCache(noop, sz)
	if len(rows) != 3 {
		t.Fatalf("noop: %d rows", len(rows))
	}
	if !strings.HasPrefix(rows[0].ratio, "3.00× ninja") || !strings.HasPrefix(rows[0].verdict, "**missed**") || !strings.Contains(rows[0].verdict, "loop script: **met**") {
		t.Errorf("noop vs ninja: %+v", rows[0])
	}
	// go-task at 100 tasks: 0.5 ms per task against hazlua's 0.03 ms.
	if !strings.HasPrefix(rows[1].ratio, "16.7× faster (per task") || !strings.HasPrefix(rows[1].verdict, "**missed**") || !strings.Contains(rows[1].verdict, "loop script: **met**") ||
		!strings.Contains(rows[1].anchors, "at 100 tasks") {
		t.Errorf("noop vs go-task: %+v", rows[1])
	}
	if !strings.HasPrefix(rows[2].verdict, "**missed**") || !strings.Contains(rows[2].verdict, "loop script: **met**") {
		t.Errorf("noop rss: %+v", rows[2])
	}
	touched := benchResult{bench: benchmark{name: "cache-touched"}, results: []*variantResult{
		res(keyHazlua, 1000, 19, mib), res(keyNinja, 1000, 10, mib), res(keyNinjaTouched, 1000, 900, mib),
	}}
	if rows := evaluateCache(touched, sz); len(rows) != 1 || rows[0].ratio != "1.90× ninja no-op" || rows[0].verdict != "**met**" || !strings.Contains(rows[0].anchors, "900.00 ms") {
		t.Errorf("touched: %+v", rows)
	}
	first := benchResult{bench: benchmark{name: "cache-first-build"}, results: []*variantResult{
		res(projCProject+keyFirstDefault, 7, 104, mib), res(projCProject+keyFirstNoCache, 7, 103, mib), res(projCProject+keyFirstNoInputs, 7, 100, mib),
		res(projCGen+keyFirstDefault, 201, 1100, mib), {variant: variant{key: projCGen + keyFirstNoCache}, err: "error: boom"}, res(projCGen+keyFirstNoInputs, 201, 1000, mib),
	}}
	rows = evaluateCache(first, sz)
	if len(rows) != 2 || rows[0].verdict != "**met**" || !strings.HasPrefix(rows[0].ratio, "1.040× no inputs, 1.010× --no-cache") ||
		rows[1].verdict != "**missed**" || !strings.HasPrefix(rows[1].ratio, "1.100× no inputs") || !strings.Contains(rows[1].anchors, "error: boom") {
		t.Errorf("first build: %+v", rows)
	}
	restore := benchResult{bench: benchmark{name: "cache-restore"}, results: []*variantResult{
		res(keyHazlua, 1000, 140, mib), res(keyRestoreDir, 1, 120, mib), res(keyCp, 0, 100, mib), res(keyCpSync, 0, 200, mib),
	}}
	if rows := evaluateCache(restore, sz); len(rows) != 1 || !strings.HasPrefix(rows[0].ratio, "1.40× cp -r (0.70× cp -r + sync -f)") || rows[0].verdict != "**met**" ||
		!strings.Contains(rows[0].ratio, "directory: 1.20× cp -r") {
		t.Errorf("restore: %+v", rows)
	}
}

// TestCacheGraphNinja builds a tiny cache-noop graph with ninja, when it is
// installed, and checks the no-op and the output check.
func TestCacheGraphNinja(t *testing.T) {
	ninja, err := exec.LookPath("ninja")
	if err != nil {
		t.Skip("ninja not installed")
	}
	dir := t.TempDir()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := writeFiles(dir, map[string]string{"build.ninja": ninjaCacheGraph(3, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := writeCacheGraphInputs([]string{dir}, 3, 2, 64, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := runOnce(dir, []string{ninja, "--quiet", "all"}); err != nil {
		t.Fatal(err)
	}
	if err := setMtimes(under(dir, mapN(3, cacheOutput)), t0.Add(cacheOutputOffset)); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCapture(dir, []string{ninja, "-n", "all"})
	if err != nil || !strings.Contains(out, "no work to do") {
		t.Errorf("ninja -n after the build: %q, %v", out, err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "in/i2_1"))
	b, _ := os.ReadFile(filepath.Join(dir, "in/i2_2"))
	if o, _ := os.ReadFile(filepath.Join(dir, "out/o2")); string(o) != string(a)+string(b) {
		t.Error("out/o2 is not the cat of its inputs")
	}
	if err := outputsAt(dir, 3, t0.Add(cacheOutputOffset))(); err != nil {
		t.Error(err)
	}
}
