package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOnlyScaling(t *testing.T) {
	set, err := parseOnly("scaling")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range scalingWorkloads {
		names = append(names, w.name)
		if !set[w.name] || !isBenchmark(w.name) {
			t.Errorf("%s not selected or not a benchmark", w.name)
		}
	}
	if !slices.Equal(names, scalingNames) || len(set) != len(scalingNames) {
		t.Errorf("workloads %v, scalingNames %v, selected %v", names, scalingNames, set)
	}
	if ws := selectedWorkloads(config{only: map[string]bool{"scaling-body": true}}); len(ws) != 1 || ws[0].dir != "body" {
		t.Errorf("-only scaling-body: %v", ws)
	}
}

func TestScalingDataText(t *testing.T) {
	if got, want := luaChainData(3), "T = {}\nT[1] = {}\nT[2] = {deps = {\"t1\"}}\nT[3] = {deps = {\"t2\"}}\n"; got != want {
		t.Errorf("luaChainData:\n%s\nwant\n%s", got, want)
	}
	if got, want := luaFanData(2, emptyBody), "T = {}\nT[1] = {run = function() end}\nT[2] = {run = function() end}\nT[3] = {deps = {\"t1\", \"t2\"}}\n"; got != want {
		t.Errorf("luaFanData:\n%s\nwant\n%s", got, want)
	}
	if got := luaChainDataLoop(7); !strings.Contains(got, "for i = 2, 7 do") || !strings.Contains(got, `T[i] = {deps = {"t" .. (i - 1)}}`) {
		t.Errorf("luaChainDataLoop:\n%s", got)
	}
	if got := luaFanDataLoop(7, ""); !strings.Contains(got, "for i = 1, 7 do") || !strings.Contains(got, "T[i] = {}") || !strings.Contains(got, "T[7 + 1] = {deps = deps}") {
		t.Errorf("luaFanDataLoop:\n%s", got)
	}
}

// TestScalingInputsRun writes the inputs at small sizes and checks them:
// with lua5.4 (when installed), that each hazlua script calls haz.task
// once per task and each data-only script leaves one table per call in T;
// with ninja (when installed), that the ninja variants run.
func TestScalingInputsRun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "scaling")
	sizes := []int{3, 20}
	if err := writeScalingInputs(root, scalingWorkloads, sizes); err != nil {
		t.Fatal(err)
	}
	lua, _ := exec.LookPath("lua5.4")
	for _, w := range scalingWorkloads {
		for _, n := range sizes {
			dir := scalingDir(root, w, n)
			calls := n + 1 // the fan-outs' all
			if w.dir == "chain" {
				calls = n
			}
			if lua == "" {
				continue
			}
			for _, script := range []string{hazScript, hazLoop, scalingData, scalingDataLoop} {
				check := fmt.Sprintf(`calls = 0; haz = {task = function(name, opts) assert(type(name) == "string" and type(opts) == "table"); calls = calls + 1 end}
dofile(%q)
local got = calls
if T then got = #T end
assert(got == %d, %q .. ": " .. got .. " calls or tables, want %d")`, filepath.Join(dir, script), calls, script, calls)
				if out, err := exec.Command(lua, "-e", check).CombinedOutput(); err != nil {
					t.Errorf("%s/%d: %s: %v: %s", w.dir, n, script, err, out)
				}
			}
		}
	}
	if lua == "" {
		t.Log("lua5.4 is not installed: scripts not run")
	}
	var tools toolSet
	tools.ninja, _ = exec.LookPath("ninja")
	tools.prlimit, _ = exec.LookPath("prlimit")
	if tools.ninja == "" {
		t.Skip("ninja is not installed")
	}
	for _, w := range scalingWorkloads {
		b := scalingBenchmark(w, 20, root, binaries{hazlua: "/nonexistent/hazlua"}, tools, sizes2(time.Minute))
		for _, v := range b.variants {
			if v.key != keyNinja && v.key != keyNinjaEmpty {
				continue
			}
			if _, err := runOnce(root, v.argv); err != nil {
				t.Errorf("%s: %s: %v", b.name, displayCommand(v), err)
			}
		}
	}
}

func sizes2(timeout time.Duration, tasks ...int) sizes {
	return sizes{scalingTasks: tasks, scalingTimeout: timeout}
}

func TestJudgeScaling(t *testing.T) {
	pt := func(tasks int, perNs float64, rssData float64) scalingPoint {
		return scalingPoint{tasks: tasks, per: time.Duration(perNs), rssOverData: rssData}
	}
	cases := []struct {
		name    string
		points  []scalingPoint
		verdict string // prefix
		growth  []string
	}{
		{"flat", []scalingPoint{pt(1000, 2000, 100), pt(10000, 2900, 200), pt(100000, 3000, 1000)}, "**met**",
			[]string{"1.45× (1000 → 10000)", "1.03× (10000 → 100000)"}},
		{"superlinear", []scalingPoint{pt(1000, 2000, 100), pt(10000, 2000, 200), pt(100000, 4000, 500)},
			"**missed** (per-task time 2.00× from 10000 to 100000 tasks)", nil},
		{"rss", []scalingPoint{pt(1000, 2000, 100), pt(10000, 2000, 200), pt(100000, 2000, 1500)},
			"**missed** (RSS per task over the data-only script 1.46 KiB at 100000 tasks)", nil},
		{"both", []scalingPoint{pt(1000, 1000, 0), pt(10000, 2000, 0), pt(100000, 2000, 2048)},
			"**missed** (per-task time 2.00× from 1000 to 10000 tasks; RSS per task over the data-only script 2.00 KiB at 100000 tasks)", nil},
		{"noise", []scalingPoint{pt(100, -500, 0), pt(1000, 2000, 0), pt(10000, 2100, 0)},
			"not measured (the per-task time at 100 tasks is not above the empty run's)", []string{"n/a (at 100 tasks not above the empty run)", "1.05× (1000 → 10000)"}},
		{"noise but missed", []scalingPoint{pt(100, -500, 0), pt(1000, 2000, 0), pt(10000, 4000, 0)},
			"**missed** (per-task time 2.00× from 1000 to 10000 tasks)", nil},
		{"failed", []scalingPoint{pt(1000, 2000, 0), pt(10000, 2000, 0), {tasks: 100000, err: "hazlua build.lua: error: timed out after 5m0s"}},
			"**failed** at 100000 tasks (hazlua build.lua: error: timed out after 5m0s)", nil},
		{"no data", []scalingPoint{pt(1000, 2000, 0), {tasks: 10000, per: 2000, rssDataErr: "the data-only script failed"}},
			"not measured (at 10000 tasks the data-only script failed)", nil},
	}
	for _, c := range cases {
		growth, v := judgeScaling(c.points)
		if !strings.HasPrefix(v, c.verdict) {
			t.Errorf("%s: verdict %q, want %q", c.name, v, c.verdict)
		}
		if c.growth != nil && !slices.Equal(growth, c.growth) {
			t.Errorf("%s: growth %q, want %q", c.name, growth, c.growth)
		}
	}
}

func TestPerTaskBytes(t *testing.T) {
	for _, c := range []struct {
		b    float64
		want string
	}{{0, "0 B"}, {512.4, "512 B"}, {-300, "-300 B"}, {1024, "1.00 KiB"}, {1536, "1.50 KiB"}, {-2048, "-2.00 KiB"}} {
		if got := perTaskBytes(c.b); got != c.want {
			t.Errorf("perTaskBytes(%v) = %q, want %q", c.b, got, c.want)
		}
	}
}

// scalingFixture is a workload measured at 1,000 and 10,000 tasks, with
// the given hazlua build.lua medians (ms) and peak RSS (MiB).
func scalingFixture(hzMs [2]int, hzMiB [2]int64) scalingResult {
	res := func(key string, tasks, ms int, rss int64) *variantResult {
		d := time.Duration(ms) * time.Millisecond
		return &variantResult{variant: variant{key: key, label: key, tasks: tasks}, walls: []time.Duration{d}, fastest: d, rss: []int64{rss}}
	}
	var runs []scalingRun
	for i, n := range []int{1000, 10000} {
		runs = append(runs, scalingRun{tasks: n, br: benchResult{results: []*variantResult{
			res(keyHazlua, n, hzMs[i], hzMiB[i]*mib),
			res(keyHazluaLoop, n, 3+n/1000, 8*mib),
			res(keyData, n, 2+n/2000, 4*mib+int64(n)*kib),
			res(keyDataLoop, n, 2, 5*mib),
			res(keyEmpty, 0, 2, 4*mib),
			res(keyNinja, n, 3, 5*mib),
			res(keyNinjaEmpty, 0, 2, 4*mib),
		}}})
	}
	return scalingResult{w: scalingWorkloads[0], runs: runs}
}

func TestScalingPoints(t *testing.T) {
	res := scalingFixture([2]int{12, 102}, [2]int64{6, 20})
	ps := scalingPoints(res, scalingForms[0])
	if len(ps) != 2 || ps[0].per != 10*time.Microsecond || ps[1].per != 10*time.Microsecond {
		t.Fatalf("points: %+v", ps)
	}
	// build.lua at 10,000: 20 MiB, the empty script 4 MiB, data.lua 4 MiB + 10,000 KiB.
	if want := float64(16*mib) / 10000; ps[1].rssOverEmpty != want {
		t.Errorf("RSS over empty %v, want %v", ps[1].rssOverEmpty, want)
	}
	if want := float64(16*mib-10000*kib) / 10000; ps[1].rssOverData != want {
		t.Errorf("RSS over data %v, want %v", ps[1].rssOverData, want)
	}
	if _, v := judgeScaling(ps); !strings.HasPrefix(v, "**met**") {
		t.Errorf("verdict %s", v)
	}
	ninja := scalingPoints(res, scalingForms[2])
	if ninja[1].per != 100*time.Nanosecond || ninja[1].rssDataErr == "" {
		t.Errorf("ninja points: %+v", ninja)
	}
	res.runs[1].br.results[0].err = "error: boom"
	ps = scalingPoints(res, scalingForms[0])
	if _, v := judgeScaling(ps); v != "**failed** at 10000 tasks (hazlua: error: boom)" {
		t.Errorf("failed verdict %q", v)
	}
}

func TestRenderScalingReport(t *testing.T) {
	cfg := config{rounds: 1, command: "go run ./bench -only scaling", sizes: sizes2(5*time.Minute, 1000, 10000)}
	flat := scalingFixture([2]int{12, 102}, [2]int64{6, 20})
	steep := scalingFixture([2]int{12, 402}, [2]int64{6, 20})
	steep.w = scalingWorkloads[1]
	out := renderScalingReport(cfg, machine{}, binaries{hazlua: "/nonexistent/hazlua"}, "commit x", []scalingResult{flat, steep}, time.Minute)
	for _, want := range []string{
		"cost per task from 1000 to 10000 tasks",
		"| task-chain | build.lua (one task per line) | 10.0 µs / 10.0 µs | 1.00× (1000 → 10000) | 2.05 KiB / 1.64 KiB | 1.05 KiB / 654 B | **met** |",
		"| task-fanout | build.lua (one task per line) | 10.0 µs / 40.0 µs | 4.00× (1000 → 10000) |",
		"**missed** (per-task time 4.00× from 1000 to 10000 tasks)",
		"| task-chain | ninja (phony edges; reference) |",
		"reference, not judged",
		"more than 5 minutes is killed",
		"| task-chain | 10000 | hazlua | ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestScalingGivesUpAfterTimeout runs the group with a stand-in hazlua that
// hangs on build.lua at 20 tasks: the variant fails there, clearly, and is
// not run at 40.
func TestScalingGivesUpAfterTimeout(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "hazlua")
	script := "#!/bin/sh\ncase \"$*\" in *chain/20\\ *build.lua*) exec sleep 30;; esac\nexit 0\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config{rounds: 1, only: map[string]bool{"scaling-chain": true}, sizes: sizes2(500*time.Millisecond, 10, 20, 40)}
	results, err := runScalingGroup(cfg, filepath.Join(dir, "scaling"), binaries{hazlua: fake}, toolSet{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || len(results[0].runs) != 3 {
		t.Fatalf("results: %+v", results)
	}
	at := func(i int) *variantResult { return find(results[0].runs[i].br, keyHazlua) }
	if !at(0).ok() || !strings.Contains(at(1).err, "timed out after 500ms") || at(2).err != "error: not run: timed out at 20 tasks" {
		t.Errorf("build.lua: at 10 %q, at 20 %q, at 40 %q", at(0).err, at(1).err, at(2).err)
	}
	if loop := find(results[0].runs[2].br, keyHazluaLoop); !loop.ok() {
		t.Errorf("loop.lua at 40: %q", loop.err)
	}
	if ninja := find(results[0].runs[0].br, keyNinja); !strings.Contains(ninja.err, "ninja is not installed") {
		t.Errorf("ninja: %q", ninja.err)
	}
	if _, v := judgeScaling(scalingPoints(results[0], scalingForms[0])); !strings.HasPrefix(v, "**failed** at 20 tasks (hazlua build.lua: error: timed out after 500ms") {
		t.Errorf("verdict %q", v)
	}
}
