package runner

import (
	"context"
	"slices"
	"testing"
)

// Options.Changed cancels the running tasks it names (Cancelled, with what
// changed), leaves the others running, and does not stop the run: their
// dependents do not start, the others' do.
func TestChangedCancelsRunningTasks(t *testing.T) {
	g := newGate()
	block := func(ctx context.Context, tc *TaskContext) error {
		g.started <- tc.Name()
		<-ctx.Done()
		return ctx.Err()
	}
	gr := newGraph(t,
		&Task{Name: "a", Run: block},
		&Task{Name: "b", Run: g.body(nil, nil)},
		ok("after-a", "a"), ok("after-b", "b"),
	)
	changed := make(chan Change)
	cancelled := make(chan []string, 1)
	wait := runAsync(context.Background(), mustPlan(t, gr, "after-a", "after-b"), Options{Changed: changed})
	g.expect(t, "a", "b")
	changed <- Change{Tasks: map[string]bool{"a": true, "after-a": true, "z": true}, Why: "src/a.c changed",
		Cancelled: func(names []string) { cancelled <- names }}
	if got := <-cancelled; !slices.Equal(got, []string{"a"}) {
		t.Errorf("Cancelled got %v, want [a]", got)
	}
	g.free("b")
	r := wait(t)
	checkCauses(t, r, map[string]string{
		"a": "cancelled (src/a.c changed)", "after-a": "not run",
		"b": "succeeded", "after-b": "succeeded",
	})
	if r.Interrupted {
		t.Error("the run counts as interrupted")
	}
}
