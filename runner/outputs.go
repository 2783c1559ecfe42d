package runner

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/glob"
)

// outputIndex knows which task declares which output, over the whole
// graph: to refuse overlapping outputs before anything runs, and to warn
// about a task that reads another task's output without depending on it.
type outputIndex struct {
	lit   map[string]*Task // a path without wildcards → its task
	globs []globOutput     // the other patterns
	// firsts holds the first path element of every output ("" for a
	// glob whose first element has a wildcard): a path whose first
	// element is not in it is no task's output.
	firsts map[string]bool

	mu     sync.Mutex
	warned map[[2]string]bool // (reader, owner) pairs warned about
}

type globOutput struct {
	pattern string
	prefix  string // the directory before the first wildcard ("" for none)
	task    *Task
}

// outputIndex indexes the outputs of every declared task and refuses two
// tasks whose outputs overlap: the same path, a path inside another (a
// directory output holds it), a pattern matching another task's path,
// or two patterns of which one matches the other's text. (Patterns that
// overlap only on some files are caught when a run finds both tasks'
// outputs.) The error is a *GraphError of kind OutputOverlap.
func (g *Graph) outputIndex() (*outputIndex, error) {
	// The maps are made for the first output: most tasks declare none.
	x := &outputIndex{}
	type litOutput struct {
		path string
		task *Task
	}
	var lits []litOutput
	for _, t := range g.tasks {
		if len(t.Outputs) > 0 && x.lit == nil {
			x.lit, x.firsts = map[string]*Task{}, map[string]bool{}
		}
		for _, o := range t.Outputs {
			lit, ok := glob.Literal(o)
			if !ok {
				gl := globOutput{pattern: o, prefix: literalDir(o), task: t}
				x.globs = append(x.globs, gl)
				if gl.prefix == "." || gl.prefix == "" {
					x.firsts[""] = true // a wildcard first: any path may match
				} else {
					x.firsts[firstElem(gl.prefix)] = true
				}
				continue
			}
			x.firsts[firstElem(lit)] = true
			if other, dup := x.lit[lit]; dup && other != t {
				return nil, overlapError(t, lit, other, lit)
			}
			x.lit[lit] = t
			lits = append(lits, litOutput{lit, t})
		}
	}
	// later names the later-declared of two tasks first.
	later := func(t *Task, a string, other *Task, b string) error {
		if g.index[t.Name] < g.index[other.Name] {
			return overlapError(other, b, t, a)
		}
		return overlapError(t, a, other, b)
	}
	for _, l := range lits {
		for dir := path.Dir(l.path); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if other, ok := x.lit[dir]; ok && other != l.task {
				return nil, later(l.task, l.path, other, dir)
			}
		}
	}
	for i, gl := range x.globs {
		for _, l := range lits {
			if l.task != gl.task && (glob.Match(gl.pattern, l.path) ||
				gl.prefix != "" && (gl.prefix == l.path || strings.HasPrefix(gl.prefix, l.path+"/"))) {
				return nil, later(gl.task, gl.pattern, l.task, l.path)
			}
		}
		for _, other := range x.globs[i+1:] {
			if other.task != gl.task && (glob.Match(gl.pattern, other.pattern) || glob.Match(other.pattern, gl.pattern)) {
				return nil, later(other.task, other.pattern, gl.task, gl.pattern)
			}
		}
	}
	return x, nil
}

// literalDir returns the directories of pattern before its first
// wildcard or brace ("build/obj" for "build/obj/*.o").
func literalDir(pattern string) string {
	var dirs []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.ContainsAny(seg, "*?[{\\") {
			break
		}
		dirs = append(dirs, seg)
	}
	if len(dirs) == len(strings.Split(pattern, "/")) {
		return ""
	}
	return path.Clean(strings.Join(dirs, "/"))
}

// overlapError says that output a of task t overlaps output b of task
// other.
func overlapError(t *Task, a string, other *Task, b string) error {
	msg := fmt.Sprintf("task %q: output %s overlaps output %s of task %q", t.Name, a, b, other.Name)
	if other.Pos != "" {
		msg += " (" + other.Pos + ")"
	}
	return &GraphError{Kind: OutputOverlap, Pos: t.Pos, Task: t.Name, Msg: msg}
}

// firstElem returns the first element of a slash-separated path ("/" for
// an absolute one, "" for "").
func firstElem(p string) string {
	if strings.HasPrefix(p, "/") {
		return "/"
	}
	first, _, _ := strings.Cut(p, "/")
	return first
}

// owner returns the task that declares p as an output (or a directory
// holding it), or nil.
func (x *outputIndex) owner(p string) *Task {
	if !x.firsts[firstElem(p)] && !x.firsts[""] {
		return nil // outside every output's top directory
	}
	for q := p; q != "." && q != "/"; q = path.Dir(q) {
		if t, ok := x.lit[q]; ok {
			return t
		}
	}
	for _, gl := range x.globs {
		if glob.Match(gl.pattern, p) {
			return gl.task
		}
	}
	return nil
}

// checkReads warns, once per pair, when task i reads (as an input) an
// output of a task that is not among its dependencies: a run may read
// the file before that task writes it.
func (x *outputIndex) checkReads(s *runState, i int32, inputs []string) {
	if x == nil || len(x.lit)+len(x.globs) == 0 {
		return
	}
	t := s.p.tasks[i]
	var deps map[string]bool
	for _, in := range inputs {
		o := x.owner(in)
		if o == nil || o == t {
			continue
		}
		if deps == nil {
			deps = s.p.closure(i)
		}
		if deps[o.Name] {
			continue
		}
		x.mu.Lock()
		first := !x.warned[[2]string{t.Name, o.Name}]
		if x.warned == nil {
			x.warned = map[[2]string]bool{}
		}
		x.warned[[2]string{t.Name, o.Name}] = true
		x.mu.Unlock()
		if first {
			s.opt.Output.warnf("task %s reads %s, an output of task %s, without depending on it", t.Name, in, o.Name)
		}
	}
}

// closure returns the names of every task node i depends on, directly
// or not.
func (p *Plan) closure(i int32) map[string]bool {
	seen := map[string]bool{}
	work := slices.Clone(p.deps(i))
	for len(work) > 0 {
		d := work[len(work)-1]
		work = work[:len(work)-1]
		if name := p.tasks[d].Name; !seen[name] {
			seen[name] = true
			work = append(work, p.deps(d)...)
		}
	}
	return seen
}

// claimOutputs records that node i produced files in this run, and
// returns an *GraphError of kind OutputOverlap if another task of the run
// produced one of them. Called on Run's goroutine.
func (s *runState) claimOutputs(i int32, files []fingerprint.File) error {
	if len(files) == 0 {
		return nil
	}
	if s.claimed == nil {
		s.claimed = map[string]int32{}
	}
	for _, f := range files {
		if j, ok := s.claimed[f.Path]; ok && j != i {
			return overlapError(s.p.tasks[i], f.Path, s.p.tasks[j], f.Path)
		}
		s.claimed[f.Path] = i
	}
	return nil
}
