package runner

import (
	"fmt"
	"strings"
)

// Plan is a validated set of tasks to run: the targets and everything they
// depend on, in plan order. Plan order is the order in which a run with
// one task slot (-j1) and no failures starts them: a topological order
// that, among tasks ready at the same time, puts the targets first in the
// order named and then the rest in declaration order.
//
// A Plan is immutable and safe for concurrent use; it can be Run any
// number of times. The zero value is an empty plan.
type Plan struct {
	tasks   []*Task // plan order
	targets []string
	prio    []int32 // start priority, lower first
	body    []bool  // Run != nil

	// Dependencies and dependents of each node, as plan indices, in
	// compressed rows: deps of i are depIdx[depOff[i]:depOff[i+1]].
	depOff, depIdx   []int32
	rdepOff, rdepIdx []int32

	mutex  []int32 // index into mutexNames, or -1
	shared []bool  // mutex hold is shared
	tagOff []int32 // tag caps of i: tagIdx[tagOff[i]:tagOff[i+1]]
	tagIdx []int32 // index into tagNames

	mutexNames []string
	tagNames   []string
	tagLimit   []int

	outputs *outputIndex // every declared task's outputs
}

// Tasks returns the planned tasks in plan order. The slice is a copy.
func (p *Plan) Tasks() []*Task { return append([]*Task(nil), p.tasks...) }

// Len returns the number of planned tasks.
func (p *Plan) Len() int { return len(p.tasks) }

// Targets returns the targets the plan was made for, without duplicates.
func (p *Plan) Targets() []string { return append([]string(nil), p.targets...) }

// deps returns the plan indices of node i's dependencies.
func (p *Plan) deps(i int32) []int32 { return p.depIdx[p.depOff[i]:p.depOff[i+1]] }

// rdeps returns the plan indices of the tasks that depend on node i.
func (p *Plan) rdeps(i int32) []int32 { return p.rdepIdx[p.rdepOff[i]:p.rdepOff[i+1]] }

// tags returns the indices of node i's capped tags.
func (p *Plan) tags(i int32) []int32 { return p.tagIdx[p.tagOff[i]:p.tagOff[i+1]] }

// Validate checks the whole graph, planned or not: every dependency names
// a declared task (the error suggests a close name), there is no cycle
// (the error shows it as "a → b → a") and no two tasks' outputs overlap.
// Errors are *GraphError.
func (g *Graph) Validate() error {
	if _, _, err := g.resolve(); err != nil {
		return err
	}
	_, err := g.outputIndex()
	return err
}

// resolve validates the graph and returns every task's dependencies as
// distinct task indices, in compressed rows.
func (g *Graph) resolve() (off, idx []int32, err error) {
	n := len(g.tasks)
	off = make([]int32, n+1)
	idx = make([]int32, 0, n)
	seen := make([]int32, n) // seen[d] == i+1: d already a dep of i
	for i, t := range g.tasks {
		for _, d := range t.Deps {
			j, ok := g.index[d]
			if !ok {
				return nil, nil, &GraphError{Kind: UnknownTask, Pos: t.Pos, Task: t.Name,
					Msg: fmt.Sprintf("task %q: %s", t.Name, unknownMsg("dependency", d, g.tasks, t.Name))}
			}
			if seen[j] == int32(i+1) {
				continue
			}
			seen[j] = int32(i + 1)
			idx = append(idx, int32(j))
		}
		off[i+1] = int32(len(idx))
	}
	if err := g.findCycle(off, idx); err != nil {
		return nil, nil, err
	}
	return off, idx, nil
}

// findCycle reports the first cycle found by a depth-first search in
// declaration order, rotated to start at its earliest-declared task.
func (g *Graph) findCycle(off, idx []int32) error {
	const (
		white = iota
		grey
		black
	)
	n := len(g.tasks)
	color := make([]uint8, n)
	type frame struct{ node, next int32 }
	var stack []frame
	for root := range n {
		if color[root] != white {
			continue
		}
		color[root] = grey
		stack = append(stack[:0], frame{int32(root), off[root]})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == off[f.node+1] {
				color[f.node] = black
				stack = stack[:len(stack)-1]
				continue
			}
			d := idx[f.next]
			f.next++
			switch color[d] {
			case white:
				color[d] = grey
				stack = append(stack, frame{d, off[d]})
			case grey:
				// The cycle is d → ... → top of stack → d.
				k := len(stack) - 1
				for stack[k].node != d {
					k--
				}
				var cyc []int32
				for _, fr := range stack[k:] {
					cyc = append(cyc, fr.node)
				}
				return g.cycleError(cyc)
			}
		}
	}
	return nil
}

func (g *Graph) cycleError(cyc []int32) error {
	first := 0
	for i, c := range cyc {
		if c < cyc[first] {
			first = i
		}
	}
	names := make([]string, 0, len(cyc)+1)
	for i := range cyc {
		names = append(names, g.tasks[cyc[(first+i)%len(cyc)]].Name)
	}
	names = append(names, names[0])
	t := g.tasks[cyc[first]]
	return &GraphError{Kind: DependencyCycle, Pos: t.Pos, Task: t.Name, Msg: "dependency cycle: " + strings.Join(names, " → ")}
}

// Plan validates the graph (see Validate), resolves targets (in the order
// given; duplicates are ignored) and their transitive dependencies, and
// orders them. An unknown target is an error that suggests a close name.
// No targets: an empty plan (the caller picks "default" or nothing).
// Errors are *GraphError.
func (g *Graph) Plan(targets []string) (*Plan, error) {
	off, idx, err := g.resolve()
	if err != nil {
		return nil, err
	}
	outputs, err := g.outputIndex()
	if err != nil {
		return nil, err
	}
	n := len(g.tasks)

	// Targets, in order, without duplicates; prio of target k is k.
	const noPrio = -1
	prio := make([]int32, n)
	for i := range prio {
		prio[i] = noPrio
	}
	var tg []string
	var order []int32 // graph indices of targets
	for _, name := range targets {
		i, ok := g.index[name]
		if !ok {
			return nil, &GraphError{Kind: UnknownTask, Msg: unknownMsg("task", name, g.tasks, "")}
		}
		if prio[i] != noPrio {
			continue
		}
		prio[i] = int32(len(tg))
		tg = append(tg, name)
		order = append(order, int32(i))
	}

	// The closure: everything the targets reach.
	in := make([]bool, n)
	work := append([]int32(nil), order...)
	for _, i := range order {
		in[i] = true
	}
	members := 0
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		members++
		for _, d := range idx[off[i]:off[i+1]] {
			if !in[d] {
				in[d] = true
				work = append(work, d)
			}
		}
	}
	base := int32(len(tg))
	for i := range n {
		if in[i] && prio[i] == noPrio {
			prio[i] = base + int32(i)
		}
	}

	// Dependents within the closure, and how many deps each member waits for.
	waiting := make([]int32, n)
	rcount := make([]int32, n+1)
	for i := range n {
		if !in[i] {
			continue
		}
		waiting[i] = off[i+1] - off[i]
		for _, d := range idx[off[i]:off[i+1]] {
			rcount[d+1]++
		}
	}
	for i := range n {
		rcount[i+1] += rcount[i]
	}
	rfill := append([]int32(nil), rcount[:n]...)
	rsrc := make([]int32, rcount[n])
	for i := range n {
		if !in[i] {
			continue
		}
		for _, d := range idx[off[i]:off[i+1]] {
			rsrc[rfill[d]] = int32(i)
			rfill[d]++
		}
	}

	// Kahn's algorithm, taking the lowest prio first; a ready aggregate
	// goes before any task with a body, as it completes without a slot.
	seq := make([]int32, 0, members)
	bodies := prioHeap{prio: prio}
	aggs := prioHeap{prio: prio}
	enqueue := func(i int32) {
		if g.tasks[i].Run == nil {
			aggs.push(i)
		} else {
			bodies.push(i)
		}
	}
	for i := range n {
		if in[i] && waiting[i] == 0 {
			enqueue(int32(i))
		}
	}
	for aggs.Len()+bodies.Len() > 0 {
		var i int32
		if aggs.Len() > 0 {
			i = aggs.pop()
		} else {
			i = bodies.pop()
		}
		seq = append(seq, i)
		for _, r := range rsrc[rcount[i]:rcount[i+1]] {
			waiting[r]--
			if waiting[r] == 0 {
				enqueue(r)
			}
		}
	}

	p := g.buildPlan(tg, seq, prio, off, idx)
	p.outputs = outputs
	return p, nil
}

// CheckParams returns a *GraphError of kind BadParam for the first
// planned task (in plan order) whose required parameter was not given
// (Graph.SetParam), or nil. A run needs them all; drawing the graph does
// not.
func (p *Plan) CheckParams() error {
	for _, t := range p.tasks {
		for _, pa := range t.Params {
			if pa.Required && !pa.set {
				return &GraphError{Kind: BadParam, Pos: t.Pos, Task: t.Name,
					Msg: fmt.Sprintf("task %q needs the parameter %s (hazlua %s %s=VALUE)", t.Name, pa.Name, t.Name, pa.Name)}
			}
		}
	}
	return nil
}

// buildPlan renumbers the members listed in seq (graph indices, plan
// order) to plan indices and fills in the Plan.
func (g *Graph) buildPlan(targets []string, seq, gprio, off, idx []int32) *Plan {
	m := len(seq)
	pos := make([]int32, len(g.tasks)) // graph index → plan index
	for pi, gi := range seq {
		pos[gi] = int32(pi)
	}
	p := &Plan{
		tasks:   make([]*Task, m),
		targets: targets,
		prio:    make([]int32, m),
		body:    make([]bool, m),
		depOff:  make([]int32, m+1),
		rdepOff: make([]int32, m+1),
		mutex:   make([]int32, m),
		shared:  make([]bool, m),
		tagOff:  make([]int32, m+1),
	}
	mutexes := map[string]int32{}
	tags := map[string]int32{}
	for pi, gi := range seq {
		t := g.tasks[gi]
		p.tasks[pi] = t
		p.prio[pi] = gprio[gi]
		p.body[pi] = t.Run != nil
		for _, d := range idx[off[gi]:off[gi+1]] {
			dp := pos[d]
			p.depIdx = append(p.depIdx, dp)
			p.rdepOff[dp+1]++
		}
		p.depOff[pi+1] = int32(len(p.depIdx))

		p.mutex[pi] = -1
		if t.Run != nil && t.Mutex != "" {
			mi, ok := mutexes[t.Mutex]
			if !ok {
				mi = int32(len(p.mutexNames))
				mutexes[t.Mutex] = mi
				p.mutexNames = append(p.mutexNames, t.Mutex)
			}
			p.mutex[pi] = mi
			p.shared[pi] = t.MutexShared
		}
		if t.Run != nil {
			start := len(p.tagIdx)
		tagLoop:
			for _, tag := range t.Tags {
				limit, ok := g.limits[tag]
				if !ok {
					continue
				}
				ti, ok := tags[tag]
				if !ok {
					ti = int32(len(p.tagNames))
					tags[tag] = ti
					p.tagNames = append(p.tagNames, tag)
					p.tagLimit = append(p.tagLimit, limit)
				}
				for _, have := range p.tagIdx[start:] {
					if have == ti {
						continue tagLoop
					}
				}
				p.tagIdx = append(p.tagIdx, ti)
			}
		}
		p.tagOff[pi+1] = int32(len(p.tagIdx))
	}
	for i := range m {
		p.rdepOff[i+1] += p.rdepOff[i]
	}
	fill := append([]int32(nil), p.rdepOff[:m]...)
	p.rdepIdx = make([]int32, len(p.depIdx))
	for i := range m {
		for _, d := range p.deps(int32(i)) {
			p.rdepIdx[fill[d]] = int32(i)
			fill[d]++
		}
	}
	return p
}
