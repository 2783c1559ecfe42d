package runner

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hazlua/hazlua/internal/uptodate"
)

// TestSelect runs a plan under a Selection (--changed-since): exactly the
// picked tasks and their dependents (through aggregates too) run; the
// others end NotSelected, count as success, and say why in -n and
// --explain.
func TestSelect(t *testing.T) {
	var mu sync.Mutex
	var ran []string
	body := func(name string, deps ...string) *Task {
		return &Task{Name: name, Deps: deps, Run: func(context.Context, *TaskContext) error {
			mu.Lock()
			ran = append(ran, name)
			mu.Unlock()
			return nil
		}}
	}
	g := newGraph(t,
		body("gen"),
		body("a", "gen"),
		body("b"),
		agg("objs", "a", "b"),
		body("link", "objs"),
		body("docs"),
		agg("all", "link", "docs"),
	)
	p := mustPlan(t, g, "all")
	sel := p.Select(func(tk *Task) bool { return tk.Name == "b" }, "unchanged since main")

	want := map[string]bool{"b": true, "objs": true, "link": true, "all": true}
	for _, tk := range p.Tasks() {
		if got := sel.Selected(tk.Name); got != want[tk.Name] {
			t.Errorf("Selected(%s) = %v, want %v", tk.Name, got, want[tk.Name])
		}
	}
	for _, pr := range Predict(p, nil, sel) {
		if wantOut := !want[pr.Task.Name]; (pr.NotSelected != "") != wantOut {
			t.Errorf("Predict: %s NotSelected = %q", pr.Task.Name, pr.NotSelected)
		}
	}

	o, _, stderr := newTestOutput(t, Prefixed, false, false, false)
	r := Run(context.Background(), p, Options{Jobs: 2, Output: o, Select: sel, Explain: true})
	slices.Sort(ran)
	if !slices.Equal(ran, []string{"b", "link"}) {
		t.Errorf("ran %v, want [b link]", ran)
	}
	out := "not selected (unchanged since main)"
	checkCauses(t, r, map[string]string{"gen": out, "a": out, "docs": out, "b": "succeeded",
		"objs": "succeeded", "link": "succeeded", "all": "succeeded"})
	if r.Failed() {
		t.Error("a run with tasks not selected failed")
	}
	o.Summary(r)
	got := contents(t, stderr)
	for _, line := range []string{"hazlua: explain: gen: " + out + "\n", "hazlua: explain: docs: " + out + "\n",
		"hazlua: 4 succeeded, 3 not selected in "} {
		if !strings.Contains(got, line) {
			t.Errorf("stderr lacks %q:\n%s", line, got)
		}
	}

	// Nothing picked: nothing runs, and the aggregate over tasks left out
	// is left out too.
	none := p.Select(func(*Task) bool { return false }, "unchanged since HEAD")
	ran = nil
	r = Run(context.Background(), p, Options{Select: none})
	if len(ran) != 0 || r.Count(NotSelected) != len(p.Tasks()) {
		t.Errorf("ran %v, %d not selected of %d", ran, r.Count(NotSelected), len(p.Tasks()))
	}
	// A Selection of another plan is ignored.
	ran = nil
	Run(context.Background(), mustPlan(t, g, "docs"), Options{Select: none})
	if !slices.Equal(ran, []string{"docs"}) {
		t.Errorf("with another plan's selection: ran %v, want [docs]", ran)
	}
}

// TestSelectSeesOutputsLeftOut: a selected task's fingerprint sees the
// outputs of a dependency left out as they are on disk, so after a full
// build it is up to date (in the run and in Predict), not rerun for a
// dependency output that seems gone.
func TestSelectSeesOutputsLeftOut(t *testing.T) {
	x := newIncr(t)
	x.write("gen.txt", "v1")
	x.write("a.c", "a1")
	g := newGraph(t,
		x.task("gen", []string{"gen.txt"}, []string{"out/gen.h"}),
		x.task("a", []string{"a.c"}, []string{"out/a.o"}, "gen"),
	)
	x.run(Prefixed, g, "a")
	p := mustPlan(t, g, "a")
	onlyA := func(tk *Task) bool { return tk.Name == "a" }

	store := uptodate.Open(uptodate.Config{Dir: ".haz"})
	for _, pr := range Predict(p, store, p.Select(onlyA, "unchanged since main")) {
		if pr.Task.Name == "a" && pr.Action != uptodate.UpToDate {
			t.Errorf("Predict: a %s (%s), want up to date", pr.Action, pr.Reason)
		}
	}
	r := Run(context.Background(), p, Options{Store: store, Select: p.Select(onlyA, "unchanged since main")})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if oc := r.Outcome("a"); oc.Status != UpToDate {
		t.Errorf("a: %s (%s), want up to date", oc.Status, oc.Reason)
	}
	if oc := r.Outcome("gen"); oc.Status != NotSelected {
		t.Errorf("gen: %s, want not selected", oc.Status)
	}
}
