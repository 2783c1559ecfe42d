package runner

// Selection restricts a run to some of a plan's tasks (--changed-since):
// the others end NotSelected without running, and count as success. A nil
// *Selection selects every task. It is immutable once made.
type Selection struct {
	plan  *Plan
	in    []bool // by plan index
	feeds []bool // left out, with a body, and a selected task depends on it
	cause string
}

// Select returns the selection of the tasks of p for which pick returns
// true, and of every task that depends on one of them (directly, or
// through other tasks or aggregates). The others' outcome cause is
// "not selected (why)". pick is called once per task, in plan order.
func (p *Plan) Select(pick func(*Task) bool, why string) *Selection {
	s := &Selection{plan: p, in: make([]bool, len(p.tasks)), feeds: make([]bool, len(p.tasks)),
		cause: "not selected (" + why + ")"}
	for i, t := range p.tasks { // plan order: dependencies first
		if pick(t) {
			s.in[i] = true
			continue
		}
		for _, d := range p.deps(int32(i)) {
			if s.in[d] {
				s.in[i] = true
				break
			}
		}
	}
	for i := range p.tasks {
		if s.in[i] {
			p.eachBodyDep(int32(i), func(d int32) { s.feeds[d] = !s.in[d] })
		}
	}
	return s
}

// feedsSelected reports whether plan node i is left out and a selected
// task depends on its outputs: they are then taken as they are now.
func (s *Selection) feedsSelected(i int32) bool { return s != nil && s.feeds[i] }

// Selected reports whether the task named name is selected: true for a
// nil Selection, false for a task not in the plan.
func (s *Selection) Selected(name string) bool {
	if s == nil {
		return true
	}
	for i, t := range s.plan.tasks {
		if t.Name == name {
			return s.in[i]
		}
	}
	return false
}

// Cause returns the outcome cause of a task left out: "not selected
// (unchanged since main)"; "" for a nil Selection.
func (s *Selection) Cause() string {
	if s == nil {
		return ""
	}
	return s.cause
}

// has reports whether plan node i is selected.
func (s *Selection) has(i int32) bool { return s == nil || s.in[i] }
