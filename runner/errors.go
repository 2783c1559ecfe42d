package runner

import (
	"fmt"
	"unicode/utf8"
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
)

// String returns "bad declaration", "unknown task" or "dependency cycle".
func (k GraphErrorKind) String() string {
	switch k {
	case BadDeclaration:
		return "bad declaration"
	case UnknownTask:
		return "unknown task"
	case DependencyCycle:
		return "dependency cycle"
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
func unknownMsg(what, name string, names []*Task, exclude string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s := suggest(name, names, exclude); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// suggest returns the task name closest to name by edit distance, if it is
// close enough to be a plausible typo, else "". The task named exclude is
// never suggested.
func suggest(name string, tasks []*Task, exclude string) string {
	n := utf8.RuneCountInString(name)
	maxDist := 2
	if n/3 > maxDist {
		maxDist = n / 3
	}
	best, bestDist := "", maxDist+1
	for _, t := range tasks {
		c := t.Name
		if c == exclude {
			continue
		}
		lc := utf8.RuneCountInString(c)
		if d := lc - n; d > maxDist || -d > maxDist {
			continue
		}
		d := editDistance(name, c)
		if d < bestDist && d < max(n, lc) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
