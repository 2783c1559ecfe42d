package runner

import (
	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/uptodate"
)

// Prediction is what a run would do with one task (--dry-run).
type Prediction struct {
	Task *Task
	// Action: Run (also for an aggregate, which has no body), UpToDate or
	// Restore.
	Action uptodate.Action
	// Reason says why the task will run or be restored ("input src/a.c
	// changed", "dependency gen will run"); "" when it is up to date or
	// an aggregate.
	Reason string
	// NotSelected is the outcome cause of a task the Selection leaves
	// out ("not selected (unchanged since main)"), or "": then Action
	// and Reason say nothing.
	NotSelected string
}

// Predict says, for each task of p in plan order, whether a run with
// store would run it, find it up to date or restore it, and why, without
// running anything or changing an output. A dependency that will run
// and declares outputs makes its dependents run ("dependency gen will
// run"): its new outputs are not known before it runs, though a real run
// may then find a dependent up to date after all. Without a store every
// task will run. With sel, the tasks it leaves out are predicted
// NotSelected (a dependency left out makes no dependent run).
func Predict(p *Plan, store *uptodate.Store, sel *Selection) []Prediction {
	if sel != nil && sel.plan != p {
		sel = nil
	}
	n := len(p.tasks)
	preds := make([]Prediction, n)
	outputs := make([][]fingerprint.File, n)
	changes := make([]bool, n) // will run and declares outputs
	for i := range n {
		t := p.tasks[i]
		pr := &preds[i]
		pr.Task = t
		if !sel.has(int32(i)) {
			pr.NotSelected = sel.Cause()
			if store != nil && len(t.Outputs) > 0 && sel.feedsSelected(int32(i)) {
				outputs[i] = store.OutputsNow(t.Outputs)
			}
			continue
		}
		if !p.body[i] {
			continue
		}
		changed := ""
		p.eachBodyDep(int32(i), func(d int32) {
			if changed == "" && changes[d] {
				changed = p.tasks[d].Name
			}
		})
		switch {
		case store == nil:
		case t.Inputs == nil:
			pr.Reason = uptodate.ReasonNoInputs
		case changed != "":
			pr.Reason = "dependency " + changed + " will run"
		default:
			c := store.Check(t.spec(), p.depOutputs(int32(i), outputs))
			pr.Action, pr.Reason, outputs[i] = c.Action, c.Reason, c.Outputs
		}
		changes[i] = pr.Action == uptodate.Run && len(t.Outputs) > 0
	}
	return preds
}
