package runner

import (
	"fmt"
	"strings"

	"github.com/hazlua/hazlua/internal/suggest"
)

// Graph holds the declared tasks and tag limits. The zero value is not
// usable; call NewGraph. A Graph is not safe for concurrent use: declare
// everything from one goroutine, then call Plan. Plans made earlier are not
// affected by later Adds.
type Graph struct {
	tasks  []*Task
	index  map[string]int // name → position in tasks
	limits map[string]int // tag → cap
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{index: make(map[string]int), limits: make(map[string]int)}
}

// Add declares t. It fails (with a *GraphError) if t has no name, its name
// is already declared, or its Timeout is negative. Dependencies are checked
// later, by Plan, so tasks may be declared in any order.
func (g *Graph) Add(t *Task) error {
	if t == nil {
		return &GraphError{Msg: "nil task"}
	}
	if t.Name == "" {
		return &GraphError{Pos: t.Pos, Msg: "task name is empty"}
	}
	if i, ok := g.index[t.Name]; ok {
		msg := fmt.Sprintf("task %q already declared", t.Name)
		if prev := g.tasks[i].Pos; prev != "" {
			msg += " at " + prev
		}
		return &GraphError{Pos: t.Pos, Task: t.Name, Msg: msg}
	}
	if t.Timeout < 0 {
		return &GraphError{Pos: t.Pos, Task: t.Name, Msg: fmt.Sprintf("task %q: negative timeout %v", t.Name, t.Timeout)}
	}
	for _, d := range t.Deps {
		if d == "" {
			return &GraphError{Pos: t.Pos, Task: t.Name, Msg: fmt.Sprintf("task %q: empty dependency name", t.Name)}
		}
	}
	for k := range t.Params {
		if p := &t.Params[k]; !p.Required {
			p.Value = p.Default
		}
	}
	g.index[t.Name] = len(g.tasks)
	g.tasks = append(g.tasks, t)
	return nil
}

// Limit caps at n the number of tasks tagged tag that run at once. n must
// be at least 1, and a tag's limit can be set only once.
func (g *Graph) Limit(tag string, n int) error {
	if tag == "" {
		return &GraphError{Msg: "limit: empty tag"}
	}
	if n < 1 {
		return &GraphError{Msg: fmt.Sprintf("limit %q: %d is not at least 1", tag, n)}
	}
	if old, ok := g.limits[tag]; ok {
		return &GraphError{Msg: fmt.Sprintf("limit %q: already set to %d", tag, old)}
	}
	g.limits[tag] = n
	return nil
}

// LimitOf returns the cap set for tag by Limit, and whether one was set.
func (g *Graph) LimitOf(tag string) (int, bool) {
	n, ok := g.limits[tag]
	return n, ok
}

// SetParam gives the task named task the value of its parameter name for
// the runs of the plans made after it. An unknown task, or a parameter the
// task does not declare, is a *GraphError of kind UnknownTask or BadParam
// that names both (and suggests a close name).
func (g *Graph) SetParam(task, name, value string) error {
	i, ok := g.index[task]
	if !ok {
		return &GraphError{Kind: UnknownTask, Msg: unknownMsg("task", task, g.tasks, "")}
	}
	t := g.tasks[i]
	for k := range t.Params {
		if p := &t.Params[k]; p.Name == name {
			p.Value, p.set = value, true
			return nil
		}
	}
	names := make([]string, len(t.Params))
	for k, p := range t.Params {
		names[k] = p.Name
	}
	msg := fmt.Sprintf("task %q has no parameter %q", t.Name, name)
	if len(names) == 0 {
		msg += " (it declares none)"
	} else {
		if s := suggest.Closest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; its parameters: " + strings.Join(names, ", ")
	}
	return &GraphError{Kind: BadParam, Pos: t.Pos, Task: t.Name, Msg: msg}
}

// Has reports whether a task named name is declared.
func (g *Graph) Has(name string) bool {
	_, ok := g.index[name]
	return ok
}

// Task returns the task named name, or nil.
func (g *Graph) Task(name string) *Task {
	if i, ok := g.index[name]; ok {
		return g.tasks[i]
	}
	return nil
}

// Tasks returns the declared tasks in declaration order. The slice is a
// copy; the tasks are not.
func (g *Graph) Tasks() []*Task {
	return append([]*Task(nil), g.tasks...)
}

// Len returns the number of declared tasks.
func (g *Graph) Len() int { return len(g.tasks) }
