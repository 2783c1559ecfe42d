package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseOnlyGroups(t *testing.T) {
	set, err := parseOnly("tasks, startup")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append([]string{"startup"}, taskNames...) {
		if !set[name] {
			t.Errorf("%s not selected", name)
		}
	}
	if set["spawn"] || len(set) != 1+len(taskNames) {
		t.Errorf("selected %v", set)
	}
	if _, err := parseOnly("tasks,nope"); err == nil {
		t.Error("unknown name: no error")
	}
	if set, _ := parseOnly(""); len(set) != 0 {
		t.Errorf("empty -only selected %v", set)
	}
}

func TestTaskInputsText(t *testing.T) {
	if got, want := luaChain(3), "haz.task(\"t1\", {})\nhaz.task(\"t2\", {deps = {\"t1\"}})\nhaz.task(\"t3\", {deps = {\"t2\"}})\n"; got != want {
		t.Errorf("luaChain:\n%s\nwant\n%s", got, want)
	}
	if got, want := luaFan(2, "function() end"), "haz.task(\"t1\", {run = function() end})\nhaz.task(\"t2\", {run = function() end})\nhaz.task(\"all\", {deps = {\"t1\", \"t2\"}})\n"; got != want {
		t.Errorf("luaFan:\n%s\nwant\n%s", got, want)
	}
	if got, want := ninjaChain(2), "build t1: phony\nbuild t2: phony t1\n"; got != want {
		t.Errorf("ninjaChain: %q", got)
	}
	if got, want := ninjaFan(2, "/bin/true"), "rule cmd\n  command = /bin/true\nbuild t1: cmd\nbuild t2: cmd\nbuild all: phony t1 t2\n"; got != want {
		t.Errorf("ninjaFan: %q", got)
	}
	if got, want := makeChain(2), ".PHONY: t1 t2\nt1:\nt2: t1\n"; got != want {
		t.Errorf("makeChain: %q", got)
	}
	if got, want := makeFan(2, "/bin/true"), ".PHONY: all t1 t2\nall: t1 t2\nt1:\n\t/bin/true\nt2:\n\t/bin/true\n"; got != want {
		t.Errorf("makeFan: %q", got)
	}
	if got, want := goTaskChain(2), "version: '3'\ntasks:\n  t1: {}\n  t2:\n    deps: [t1]\n"; got != want {
		t.Errorf("goTaskChain: %q", got)
	}
	if got, want := goTaskFan(2), "version: '3'\ntasks:\n  t1: {}\n  t2: {}\n  all:\n    deps: [t1, t2]\n"; got != want {
		t.Errorf("goTaskFan: %q", got)
	}
	if got, want := goTaskFan(0), "version: '3'\ntasks:\n  all: {}\n"; got != want {
		t.Errorf("goTaskFan(0): %q", got)
	}
}

// TestTaskInputsRun writes the inputs at a small size and runs the
// anchors that are installed on them, through the benchmark definitions.
func TestTaskInputsRun(t *testing.T) {
	sz := sizes{tasks: 20, taskSpawns: 5, gotaskSlow: time.Minute, gotaskFallback: 10}
	in, err := writeTaskInputs(filepath.Join(t.TempDir(), "tasks"), sz)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"chain/build.lua", "chain/gotask-10/Taskfile.yml", "body/decls-loop.lua", "body/gotask-empty/Taskfile.yml", "spawn/Makefile"} {
		if _, err := os.Stat(filepath.Join(in.root, f)); err != nil {
			t.Error(err)
		}
	}
	var tools toolSet
	tools.ninja, _ = exec.LookPath("ninja")
	tools.make, _ = exec.LookPath("make")
	ran := 0
	for _, b := range taskBenchmarks(binaries{hazlua: "/nonexistent/hazlua"}, tools, in, sz) {
		for _, v := range b.variants {
			if v.key != keyNinja && v.key != keyMake || v.preErr != "" {
				continue
			}
			if _, err := runOnce(in.root, v.argv); err != nil {
				t.Errorf("%s: %s: %v", b.name, displayCommand(v), err)
			}
			ran++
		}
	}
	t.Logf("ran %d ninja/make variants", ran)
}

func TestFallbackWhenSlow(t *testing.T) {
	fb := variant{label: "fast", argv: []string{"true"}, tasks: 1}
	slow := variant{label: "slow", argv: []string{"sleep", "10"}, tasks: 2, fallback: &fb, slowAfter: 200 * time.Millisecond}
	quick := variant{label: "quick", argv: []string{"true"}, tasks: 2, fallback: &fb, slowAfter: 10 * time.Second}
	br := runBenchmark(benchmark{name: "t", variants: []variant{slow, quick}}, config{rounds: 1}, toolSet{}, t.TempDir())
	if r := br.results[0]; r.label != "fast" || r.tasks != 1 || !r.ok() || !strings.Contains(r.note, "measured at 1 tasks") {
		t.Errorf("slow variant: label %q tasks %d err %q note %q", r.label, r.tasks, r.err, r.note)
	}
	if r := br.results[1]; r.label != "quick" || r.note != "" || !r.ok() {
		t.Errorf("quick variant: label %q note %q err %q", r.label, r.note, r.err)
	}
}

func TestEvaluateTasks(t *testing.T) {
	ms := func(d int) []time.Duration { return []time.Duration{time.Duration(d) * time.Millisecond} }
	res := func(key string, tasks, d int, rss int64) *variantResult {
		return &variantResult{variant: variant{key: key, label: key, tasks: tasks}, walls: ms(d), fastest: time.Duration(d) * time.Millisecond, rss: []int64{rss}}
	}
	sz := sizes{tasks: 1000, taskSpawns: 100}
	chain := benchResult{bench: benchmark{name: "task-chain"}, results: []*variantResult{
		res(keyHazlua, 1000, 19, mib), res(keyHazluaLoop, 1000, 9, mib), res(keyNinja, 1000, 10, mib), res(keyMake, 1000, 5, mib), res(keyGoTask, 100, 300, mib),
	}}
	// build.lua is judged against 2× ninja, the loop script against 1×.
	rows := evaluateTasks(chain, sz)
	if len(rows) != 1 || rows[0].verdict != "build.lua: **met**<br>loop script: **met**" ||
		rows[0].ratio != "build.lua: 1.90× ninja, 3.80× make<br>loop script: 0.90× ninja, 1.80× make" ||
		rows[0].target != "build.lua: ≤ 2.00× ninja<br>loop script: ≤ 1.00× ninja" || !strings.Contains(rows[0].anchors, "at 100 tasks") {
		t.Errorf("chain: %+v", rows)
	}
	chain.results[0].walls, chain.results[1].walls = ms(21), ms(11)
	if rows := evaluateTasks(chain, sz); rows[0].verdict != "build.lua: **missed**<br>loop script: **missed**" {
		t.Errorf("chain, both over: %+v", rows)
	}
	chain.results[1].err = "error: boom"
	if rows := evaluateTasks(chain, sz); rows[0].verdict != "build.lua: **missed**<br>loop script: not measured (hazlua or ninja failed)" {
		t.Errorf("chain, loop failed: %+v", rows)
	}
	body := benchResult{bench: benchmark{name: "task-body"}, results: []*variantResult{
		res(keyHazlua, 1000, 20, 200*mib), res(keyNoRun, 1000, 12, mib), res(keyHazluaLoop, 1000, 30, 20*mib), res(keyNoRunLoop, 1000, 10, mib),
		res(keyEmpty, 0, 2, mib), res(keyGoTask, 1000, 100, mib), res(keyGoTaskNone, 0, 20, mib),
	}}
	rows = evaluateTasks(body, sz)
	if len(rows) != 2 {
		t.Fatalf("body: %d rows", len(rows))
	}
	if !strings.HasPrefix(rows[0].ratio, "build.lua: 8.0 µs per task") || rows[0].verdict != "build.lua: **met**<br>loop script: **missed**" ||
		!strings.Contains(rows[0].anchors, "go-task per task over its empty run: 80.0 µs") {
		t.Errorf("body: %+v", rows[0])
	}
	if !strings.HasPrefix(rows[1].verdict, "**missed**") || !strings.Contains(rows[1].verdict, "loop script: **met**") || !strings.HasPrefix(rows[1].hazlua, "200 MiB") {
		t.Errorf("rss: %+v", rows[1])
	}
	failed := benchResult{bench: benchmark{name: "task-spawn"}, results: []*variantResult{
		{variant: variant{key: keyHazlua}, err: "error: boom"}, res(keyMake, 100, 10, mib),
	}}
	if rows := evaluateTasks(failed, sz); len(rows) != 1 || !strings.HasPrefix(rows[0].verdict, "build.lua: not measured") || !strings.Contains(rows[0].hazlua, "error: boom") {
		t.Errorf("failed: %+v", rows)
	}
}

func TestLinkage(t *testing.T) {
	if got := linkage("/nonexistent"); !strings.HasPrefix(got, "unknown") {
		t.Errorf("missing file: %s", got)
	}
	if got := linkage("/bin/sh"); !strings.HasPrefix(got, "dynamically linked") && got != "statically linked" {
		t.Errorf("/bin/sh: %s", got)
	}
}
