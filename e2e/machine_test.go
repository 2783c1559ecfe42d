package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of what other programs read (docs/formats.md): task
// parameters on the command line, --list --json, --report, --graph and
// --trace, with the real binary.

const paramsLua = `
haz.task("build", {desc = "build it", params = {env = "dev"}, run = function(t)
  print("build env=" .. t.params.env)
end})
haz.task("deploy", {desc = "deploy it", deps = {"build"},
  params = {env = {default = "dev", desc = "target environment"}, region = {desc = "where to"}},
  run = function(t) print("deploy env=" .. t.params.env .. " region=" .. t.params.region) end})
haz.task("stamp", {inputs = {"in.txt"}, outputs = {"stamp.txt"}, params = {level = "1"}, run = function(t)
  print("stamp level=" .. t.params.level)
  assert(haz.fs.write("stamp.txt", t.params.level))
end})
`

// TestParams: NAME=VALUE after a task sets that task's parameter only;
// defaults, required and unknown parameters; --list shows them; a
// parameter is part of the fingerprint.
func TestParams(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(paramsLua))
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runScript(t, dir, runOpts{}, "-l")
	if code != 0 || !hasLine(stdout, regexp.MustCompile(`^deploy +deploy it +\(deps: build\) +\(params: env=dev, region\)$`)) {
		t.Fatalf("-l: exit %d\n%s\n%s", code, strings.Join(stdout, "\n"), strings.Join(stderr, "\n"))
	}

	// build and deploy both have env: env=prod after deploy is deploy's.
	code, stdout, stderr = runScript(t, dir, runOpts{}, "-o", "raw", "build", "deploy", "env=prod", "region=eu")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	checkLinesMatch(t, stdout, []string{"build env=dev", "deploy env=prod region=eu"})
	code, stdout, _ = runScript(t, dir, runOpts{}, "-o", "raw", "build", "env=test", "deploy", "region=us")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkLinesMatch(t, stdout, []string{"build env=test", "deploy env=dev region=us"})

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy"}, `^hazlua: build\.lua:5: task "deploy" needs the parameter region \(hazlua deploy region=VALUE\)$`},
		{[]string{"deploy", "region=eu", "bogus=1"}, `^hazlua: build\.lua:5: task "deploy" has no parameter "bogus"; its parameters: env, region$`},
		{[]string{"env=prod", "deploy"}, `env=prod`},
	} {
		code, stdout, stderr := runScript(t, dir, runOpts{}, tt.args...)
		if code != 2 || len(stdout) != 0 || !hasLine(stderr, regexp.MustCompile(tt.want)) {
			t.Errorf("%q: exit %d (want 2), stdout %q, stderr %q (want a line matching %s)", tt.args, code, stdout, stderr, tt.want)
		}
	}

	// The fingerprint: the same value is up to date, another reruns.
	run := func(args ...string) []string {
		t.Helper()
		code, stdout, stderr := runScript(t, dir, runOpts{}, append([]string{"-o", "raw", "--explain"}, args...)...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %q", args, code, stderr)
		}
		return append(stdout, stderr...)
	}
	if out := run("stamp"); !slices.Contains(out, "stamp level=1") {
		t.Fatalf("first run: %q", out)
	}
	if out := run("stamp", "level=1"); slices.Contains(out, "stamp level=1") || !hasLine(out, regexp.MustCompile(`explain: stamp: up to date`)) {
		t.Errorf("same parameter again: %q", out)
	}
	if out := run("stamp", "level=2"); !slices.Contains(out, "stamp level=2") {
		t.Errorf("another parameter value did not rerun: %q", out)
	}
}

// listJSON is docs/formats.md's --list --json, version 1.
type listJSON struct {
	Version int    `json:"version"`
	Script  string `json:"script"`
	Tasks   []struct {
		Name    string    `json:"name"`
		Desc    string    `json:"desc"`
		Deps    []string  `json:"deps"`
		Inputs  *[]string `json:"inputs"`
		Outputs []string  `json:"outputs"`
		Tags    []string  `json:"tags"`
		Mutex   *struct {
			Name   string `json:"name"`
			Shared bool   `json:"shared"`
		} `json:"mutex"`
		Params []struct {
			Name     string  `json:"name"`
			Desc     string  `json:"desc"`
			Default  *string `json:"default"`
			Required bool    `json:"required"`
		} `json:"params"`
		Always   bool   `json:"always"`
		Service  bool   `json:"service"`
		Body     bool   `json:"body"`
		Declared string `json:"declared"`
	} `json:"tasks"`
}

func TestListJSON(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(paramsLua+`
haz.task("net", {deps = {"stamp"}, mutex = {name = "network", shared = true}, tags = {"slow"}, always = true, service = true, run = function() end})
haz.task("all", {deps = {"deploy", "net"}})
`))
	code, stdout, stderr := runScript(t, dir, runOpts{}, "--list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	var l listJSON
	dec := json.NewDecoder(strings.NewReader(strings.Join(stdout, "\n")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("%v:\n%s", err, strings.Join(stdout, "\n"))
	}
	if l.Version != 1 || l.Script != "build.lua" || len(l.Tasks) != 5 {
		t.Fatalf("version %d, script %q, %d tasks", l.Version, l.Script, len(l.Tasks))
	}
	var names []string
	for _, tk := range l.Tasks {
		names = append(names, tk.Name)
	}
	if want := []string{"build", "deploy", "stamp", "net", "all"}; !slices.Equal(names, want) {
		t.Errorf("tasks %q, want declaration order %q", names, want)
	}
	deploy, stamp, net, all := l.Tasks[1], l.Tasks[2], l.Tasks[3], l.Tasks[4]
	if deploy.Desc != "deploy it" || !slices.Equal(deploy.Deps, []string{"build"}) || deploy.Inputs != nil ||
		deploy.Declared != "build.lua:5" || !deploy.Body || len(deploy.Params) != 2 {
		t.Errorf("deploy: %+v", deploy)
	} else {
		env, region := deploy.Params[0], deploy.Params[1]
		if env.Name != "env" || env.Default == nil || *env.Default != "dev" || env.Desc != "target environment" || env.Required ||
			region.Name != "region" || region.Default != nil || !region.Required || region.Desc != "where to" {
			t.Errorf("deploy's params: %+v", deploy.Params)
		}
	}
	if stamp.Inputs == nil || !slices.Equal(*stamp.Inputs, []string{"in.txt"}) || !slices.Equal(stamp.Outputs, []string{"stamp.txt"}) {
		t.Errorf("stamp: %+v", stamp)
	}
	if net.Mutex == nil || net.Mutex.Name != "network" || !net.Mutex.Shared || !slices.Equal(net.Tags, []string{"slow"}) || !net.Always || !net.Service || deploy.Service {
		t.Errorf("net: %+v", net)
	}
	if all.Body || !slices.Equal(all.Deps, []string{"deploy", "net"}) || all.Declared != "build.lua:14" {
		t.Errorf("all: %+v", all)
	}
	if deploy.Outputs == nil || l.Tasks[0].Deps == nil || l.Tasks[0].Tags == nil {
		t.Error("empty lists must be [] (not null)")
	}
}

// runReport is docs/formats.md's --report, version 1.
type runReport struct {
	Version     int            `json:"version"`
	Script      string         `json:"script"`
	Targets     []string       `json:"targets"`
	Started     time.Time      `json:"started"`
	Elapsed     float64        `json:"elapsed"`
	ExitStatus  int            `json:"exit_status"`
	OK          bool           `json:"ok"`
	Interrupted bool           `json:"interrupted"`
	Error       string         `json:"error"`
	Totals      map[string]int `json:"totals"`
	Tasks       []struct {
		Name     string     `json:"name"`
		Outcome  string     `json:"outcome"`
		Cause    string     `json:"cause"`
		Root     string     `json:"root"`
		Reason   string     `json:"reason"`
		Started  *time.Time `json:"started"`
		Duration float64    `json:"duration"`
		Declared string     `json:"declared"`
		FailedAt string     `json:"failed_at"`
		Error    string     `json:"error"`
	} `json:"tasks"`
}

func readReport(t *testing.T, path string) runReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r runReport
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	if r.Version != 1 || r.Script != "build.lua" || r.Started.IsZero() {
		t.Errorf("version %d, script %q, started %v", r.Version, r.Script, r.Started)
	}
	sum := 0
	for _, n := range r.Totals {
		sum += n
	}
	if len(r.Totals) != 9 || sum != len(r.Tasks) {
		t.Errorf("totals %v for %d tasks", r.Totals, len(r.Tasks))
	}
	return r
}

const reportLua = `
haz.task("gen", function() end)
haz.task("compile", {deps = {"gen"}, run = function()
  haz.run{"sh", "-c", "echo oops >&2; exit 3"}
end})
haz.task("link", {deps = {"compile"}, run = function() end})
haz.task("long", function()
  local p = haz.spawn{"sh", "-c", "echo ready; exec sleep 60", stdout = "pipe"}
  print(p:lines()())
  p:wait()
end)
`

// TestReport: --report after a success, a failure and a run stopped by
// SIGTERM.
func TestReport(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(reportLua))

	// Success; the path is relative to where hazlua started, after -C.
	code, _, stderr := runScript(t, dir, runOpts{}, "--report", "ok.json", "gen")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	r := readReport(t, filepath.Join(dir, "ok.json"))
	if !r.OK || r.ExitStatus != 0 || r.Interrupted || r.Error != "" || !slices.Equal(r.Targets, []string{"gen"}) ||
		r.Totals["succeeded"] != 1 || len(r.Tasks) != 1 || r.Tasks[0].Outcome != "succeeded" || r.Tasks[0].Started == nil ||
		r.Tasks[0].Declared != "build.lua:2" || r.Elapsed <= 0 {
		t.Errorf("success: %+v", r)
	}

	// A failure: the failed task's error and position, its dependent not run.
	code, _, _ = runScript(t, dir, runOpts{}, "--report", filepath.Join(dir, "fail.json"), "link")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	r = readReport(t, filepath.Join(dir, "fail.json"))
	if r.OK || r.ExitStatus != 1 || r.Interrupted || r.Totals["succeeded"] != 1 || r.Totals["failed"] != 1 || r.Totals["not run"] != 1 {
		t.Errorf("failure: %+v", r)
	}
	byName := map[string]int{}
	for i, tk := range r.Tasks {
		byName[tk.Name] = i
	}
	if c := r.Tasks[byName["compile"]]; c.Outcome != "failed" || c.FailedAt != "build.lua:4" ||
		!strings.HasPrefix(c.Error, `build.lua:4: haz.run: "sh" exited with status 3`) || c.Started == nil || c.Duration <= 0 {
		t.Errorf("compile: %+v", c)
	}
	if l := r.Tasks[byName["link"]]; l.Outcome != "not run" || l.Cause != "not run (dependency compile failed)" || l.Started != nil {
		t.Errorf("link: %+v", l)
	}

	// Stopped by SIGTERM while a task runs: written all the same.
	run := startHazlua(t, dir, nil, runOpts{}, "-o", "raw", "--grace", "2s", "--report", "term.json", "long")
	run.stdout.waitFor(t, "stdout", regexp.MustCompile(`^ready$`))
	run.signal(t, syscall.SIGTERM)
	if code := run.exitCode(t); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	r = readReport(t, filepath.Join(dir, "term.json"))
	if r.OK || !r.Interrupted || r.ExitStatus != 143 || len(r.Tasks) != 1 || r.Tasks[0].Outcome != "interrupted" {
		t.Errorf("SIGTERM: %+v", r)
	}
}

// TestReportUnwritable: a report that cannot be written fails a run that
// succeeded (exit 1), naming the flag.
func TestReportUnwritable(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(reportLua))
	code, _, stderr := runScript(t, dir, runOpts{}, "--report", "no/such/dir/r.json", "gen")
	if code != 1 || !hasLine(stderr, regexp.MustCompile(`^hazlua: --report: .*no/such/dir`)) {
		t.Errorf("exit %d, %q", code, stderr)
	}
}

// TestGraph: --graph prints the selected tasks as Graphviz DOT: one node
// per task with its description, one edge per dependency; nothing runs.
func TestGraph(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(paramsLua+`
haz.task("quote", {desc = 'say "hi"', deps = {"build"}, run = function() error("must not run") end})
`))
	code, stdout, stderr := runScript(t, dir, runOpts{}, "--graph", "deploy", "quote")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	out := strings.Join(stdout, "\n")
	nodes := regexp.MustCompile(`(?m)^\t"([^"]+)" \[label="((?:[^"\\]|\\.)*)"\];$`).FindAllStringSubmatch(out, -1)
	edges := regexp.MustCompile(`(?m)^\t"([^"]+)" -> "([^"]+)";$`).FindAllStringSubmatch(out, -1)
	var gotNodes, gotEdges []string
	for _, m := range nodes {
		gotNodes = append(gotNodes, m[1]+"="+m[2])
	}
	for _, m := range edges {
		gotEdges = append(gotEdges, m[1]+"->"+m[2])
	}
	sort.Strings(gotNodes)
	sort.Strings(gotEdges)
	wantNodes := []string{`build=build\nbuild it`, `deploy=deploy\ndeploy it`, `quote=quote\nsay \"hi\"`}
	wantEdges := []string{"build->deploy", "build->quote"}
	if !strings.HasPrefix(out, "digraph hazlua {") || !strings.HasSuffix(out, "}") ||
		!slices.Equal(gotNodes, wantNodes) || !slices.Equal(gotEdges, wantEdges) {
		t.Errorf("nodes %q (want %q), edges %q (want %q):\n%s", gotNodes, wantNodes, gotEdges, wantEdges, out)
	}
	if dot, err := exec.LookPath("dot"); err == nil {
		cmd := dot + " -Tsvg -o /dev/null"
		if code, _, stderr := runScript(t, dir, runOpts{wrap: []string{"sh", "-c", `"$0" "$@" | ` + cmd}}, "--graph", "deploy", "quote"); code != 0 {
			t.Errorf("dot rejected the graph: %q", stderr)
		}
	}
}

// traceFile is the Chrome trace-event JSON --trace writes.
type traceFile struct {
	TraceEvents []struct {
		Name string         `json:"name"`
		Cat  string         `json:"cat"`
		Ph   string         `json:"ph"`
		TS   float64        `json:"ts"`
		Dur  float64        `json:"dur"`
		PID  int            `json:"pid"`
		TID  int            `json:"tid"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
	DisplayTimeUnit string `json:"displayTimeUnit"`
}

// TestTrace: --trace's slices nest on every track and match what ran: one
// slice per task, one per process inside its task's, a wait for the mutex,
// no more job-slot tracks than -j.
func TestTrace(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(`
haz.task("a", {mutex = "m", run = function() haz.run{"sh", "-c", "exit 0"} end})
haz.task("b", {mutex = "m", run = function() haz.run{"sh", "-c", "exit 0"} end})
haz.task("c", function()
  haz.pipe({"echo", "hi"}, {"cat"}):wait()
  haz.spawn{"sh", "-c", "kill -TERM $$"}:wait()
end)
haz.task("default", {deps = {"a", "b", "c"}})
`))
	code, _, stderr := runScript(t, dir, runOpts{}, "-j2", "--trace", "t.json")
	if code != 0 {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "t.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tf traceFile
	if err := json.Unmarshal(b, &tf); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	type slice struct {
		name, cat, task string
		start, end      float64
		track           [2]int
		args            map[string]any
	}
	var slices_ []slice
	tracks := map[[2]int]string{} // named tracks
	for _, e := range tf.TraceEvents {
		switch e.Ph {
		case "M":
			if e.Name == "thread_name" {
				tracks[[2]int{e.PID, e.TID}] = fmt.Sprint(e.Args["name"])
			}
		case "X":
			task, _ := e.Args["task"].(string)
			slices_ = append(slices_, slice{e.Name, e.Cat, task, e.TS, e.TS + e.Dur, [2]int{e.PID, e.TID}, e.Args})
		default:
			t.Errorf("event of phase %q: %+v", e.Ph, e)
		}
	}
	const eps = 0.01 // µs: rounding
	tasks := map[string]slice{}
	var procs, waits []slice
	for _, s := range slices_ {
		if _, ok := tracks[s.track]; !ok {
			t.Errorf("slice %s on an unnamed track %v", s.name, s.track)
		}
		switch s.cat {
		case "task":
			if _, dup := tasks[s.task]; dup || s.name != s.task || s.args["outcome"] != "succeeded" {
				t.Errorf("task slice %+v (twice: %v)", s, dup)
			}
			tasks[s.task] = s
		case "process":
			procs = append(procs, s)
		case "wait":
			waits = append(waits, s)
		default:
			t.Errorf("slice of category %q", s.cat)
		}
	}
	if len(tasks) != 3 || len(procs) != 5 {
		t.Fatalf("%d task slices (want a, b, c), %d process slices (want 5)", len(tasks), len(procs))
	}
	var ends []string
	for _, p := range procs {
		owner, ok := tasks[p.task]
		if !ok || p.start < owner.start-eps || p.end > owner.end+eps {
			t.Errorf("process %s [%f, %f] not inside its task %q [%f, %f]", p.name, p.start, p.end, p.task, owner.start, owner.end)
		}
		if pid, _ := p.args["pid"].(float64); pid <= 0 || p.args["argv"] == nil {
			t.Errorf("process slice without pid or argv: %+v", p.args)
		}
		ends = append(ends, p.name+":"+fmt.Sprint(p.args["end"]))
		if name := tracks[p.track]; !regexp.MustCompile(`^job slot [12]( \(\d+\))?$`).MatchString(name) {
			t.Errorf("process %s on track %q: want job slot 1 or 2 (-j2)", p.name, name)
		}
	}
	sort.Strings(ends)
	if want := []string{"cat:exit status 0", "echo:exit status 0", "sh:exit status 0", "sh:exit status 0", "sh:killed by signal term"}; !slices.Equal(ends, want) {
		t.Errorf("process ends %q, want %q", ends, want)
	}
	// a and b share mutex m: whichever ran second waited for it.
	second := "b"
	if tasks["a"].start > tasks["b"].start {
		second = "a"
	}
	if len(waits) != 1 || waits[0].task != second || waits[0].args["for"] != "mutex m" || waits[0].end > tasks[second].start+eps {
		t.Errorf("waits %+v: want one, of %s for mutex m, ending when it starts", waits, second)
	}
	// On each track, two slices are disjoint or one holds the other.
	for i, x := range slices_ {
		for _, y := range slices_[i+1:] {
			if x.track != y.track {
				continue
			}
			disjoint := x.end <= y.start+eps || y.end <= x.start+eps
			nested := x.start <= y.start+eps && y.end <= x.end+eps || y.start <= x.start+eps && x.end <= y.end+eps
			if !disjoint && !nested {
				t.Errorf("track %q: %s [%f, %f] and %s [%f, %f] overlap without nesting", tracks[x.track], x.name, x.start, x.end, y.name, y.start, y.end)
			}
		}
	}
}
