package runner

import (
	"fmt"

	"github.com/hazlua/hazlua/internal/suggest"
)

// GraphErrorKind says what is wrong with a graph. The zero value is
// BadDeclaration.
type GraphErrorKind int

const (
	// BadDeclaration: a task or a limit declaration is invalid or a
	// duplicate (Graph.Add, Graph.Limit).
	BadDeclaration GraphErrorKind = iota
	// UnknownTask: a target or a dependency names no declared task.
	UnknownTask
	// DependencyCycle: the dependencies form a cycle.
	DependencyCycle
	// OutputOverlap: two tasks declare (or, in a run, produce) the same
	// output, or one's output holds the other's.
	OutputOverlap
	// BadParam: a parameter given to a task that does not declare it, or
	// a planned task's required parameter not given.
	BadParam
)

// String returns "bad declaration", "unknown task", "dependency cycle",
// "output overlap" or "bad parameter".
func (k GraphErrorKind) String() string {
	switch k {
	case BadDeclaration:
		return "bad declaration"
	case UnknownTask:
		return "unknown task"
	case DependencyCycle:
		return "dependency cycle"
	case OutputOverlap:
		return "output overlap"
	case BadParam:
		return "bad parameter"
	}
	return fmt.Sprintf("GraphErrorKind(%d)", int(k))
}

// GraphError is an error in the declared graph or in the targets asked
// for: a bad or duplicate declaration, an unknown task, an unknown
// dependency, a cycle. Kind says which.
type GraphError struct {
	Kind GraphErrorKind
	// Pos is the declaration position of the task at fault ("build.lua:12"),
	// or "" (unknown targets have none).
	Pos string
	// Task is the task at fault, or "".
	Task string
	// Msg is the message without the position.
	Msg string
}

// Error returns "pos: msg", or msg alone when there is no position.
func (e *GraphError) Error() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

// Position returns e.Pos, so that GraphError is a TaskError.
func (e *GraphError) Position() string { return e.Pos }

// unknownMsg formats `unknown <what> "name"` with a "did you mean"
// suggestion drawn from tasks (in order, so ties go to the first), never
// the task named exclude.
func unknownMsg(what, name string, tasks []*Task, exclude string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s := suggestTask(name, tasks, exclude); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// suggestTask returns the task name closest to name (see suggest.Closest),
// or "". The task named exclude is never suggested.
func suggestTask(name string, tasks []*Task, exclude string) string {
	names := make([]string, 0, len(tasks))
	for _, t := range tasks {
		if t.Name != exclude {
			names = append(names, t.Name)
		}
	}
	return suggest.Closest(name, names)
}
