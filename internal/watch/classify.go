// Package watch is the file watching of hazlua's watch mode (hazlua -w,
// docs/api.md "Watch mode"): which directories to watch for a graph of
// tasks (Set.Dirs), which changed paths matter and what they make out of
// date (Set.Classify), and a debounced, recursive watcher over fsnotify
// (Watcher). It knows nothing of Lua or of running tasks.
package watch

import (
	"path"
	"slices"
	"strings"

	"github.com/hazlua/hazlua/internal/glob"
)

// Task is what the watcher knows of one task of the watched graph.
type Task struct {
	Name string
	// Deps names the task's dependencies (tasks of the same Set; others
	// are ignored).
	Deps []string
	// Inputs are the task's input patterns; nil: none (no change makes
	// the task out of date directly).
	Inputs []string
	// Files are the inputs' current matches, so that removing or renaming
	// a directory that holds some counts as their change.
	Files []string
	// Outputs are the task's output patterns: changes there are the
	// build's own, and ignored.
	Outputs []string
}

// Set is the watched graph: its tasks (in plan order) and the script
// files (the script and the files it required). Paths are slash-separated
// and relative to the project root (absolute outside it).
type Set struct {
	tasks   []Task
	index   map[string]int
	rdeps   [][]int
	scripts []string

	// The globs, split for speed: a path's parents are looked up in the
	// literal ones; only the others are matched one by one.
	litOut  map[string]bool
	globOut []string
	litIn   map[string][]int // literal input → the tasks that read it
	globIn  []taskGlob
}

type taskGlob struct {
	task    int
	pattern string
}

// NewSet returns the Set of tasks and script files.
func NewSet(tasks []Task, scripts []string) *Set {
	s := &Set{tasks: tasks, index: make(map[string]int, len(tasks)), rdeps: make([][]int, len(tasks)), scripts: scripts}
	for i, t := range tasks {
		s.index[t.Name] = i
	}
	s.litOut, s.litIn = map[string]bool{}, map[string][]int{}
	for i, t := range tasks {
		for _, d := range t.Deps {
			if j, ok := s.index[d]; ok {
				s.rdeps[j] = append(s.rdeps[j], i)
			}
		}
		for _, o := range t.Outputs {
			if lit, ok := glob.Literal(o); ok {
				s.litOut[lit] = true
			} else {
				s.globOut = append(s.globOut, o)
			}
		}
		for _, in := range t.Inputs {
			if lit, ok := glob.Literal(in); ok {
				s.litIn[lit] = append(s.litIn[lit], i)
			} else {
				s.globIn = append(s.globIn, taskGlob{i, in})
			}
		}
	}
	return s
}

// ignoredDirs are never watched and their changes never count: hazlua's
// state and git's.
var ignoredDirs = []string{".haz", ".git"}

// Ignored reports whether a change to p never counts: p is under .haz/ or
// .git/, or is (or is under) an output of a task of the set.
func (s *Set) Ignored(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	if slices.Contains(ignoredDirs, first) {
		return true
	}
	for q := range parents(p) {
		if s.litOut[q] {
			return true
		}
	}
	for _, o := range s.globOut {
		if matchOrUnder(o, p) {
			return true
		}
	}
	return false
}

// parents yields p and each of its parent directories, "." and "/"
// excluded.
func parents(p string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for q := p; q != "." && q != "/" && q != ""; q = path.Dir(q) {
			if !yield(q) {
				return
			}
		}
	}
}

// matchOrUnder reports whether pattern matches p or one of its parent
// directories (a directory matched stands for its contents).
func matchOrUnder(pattern, p string) bool {
	for q := range parents(p) {
		if glob.Match(pattern, q) {
			return true
		}
	}
	return false
}

// under reports whether p is dir or lies under it; "." holds every
// relative path.
func under(p, dir string) bool {
	if dir == "." {
		return !strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// Change is what a batch of changed paths means for the set.
type Change struct {
	// Paths are the paths that count (not ignored, and an input of a task
	// or a script file), sorted.
	Paths []string
	// Script: a script file changed; the script is to be loaded again.
	Script bool
	// Tasks are the tasks an input of which changed, in plan order.
	Tasks []string
	// Dirty holds Tasks and every task that depends on one of them, by
	// name.
	Dirty map[string]bool
}

// Empty reports whether nothing that counts changed.
func (c *Change) Empty() bool { return !c.Script && len(c.Tasks) == 0 }

// Classify returns what the changed paths mean. A path that is a
// directory stands for everything under it ("." for the whole tree, as
// after an event overflow).
func (s *Set) Classify(paths []string) Change {
	c := Change{Dirty: map[string]bool{}}
	hit := make([]bool, len(s.tasks))
	for _, p := range paths {
		if p != "." && s.Ignored(p) {
			continue
		}
		counts := false
		for _, sc := range s.scripts {
			if under(sc, p) {
				c.Script, counts = true, true
			}
		}
		for q := range parents(p) {
			for _, i := range s.litIn[q] {
				hit[i], counts = true, true
			}
		}
		for _, g := range s.globIn {
			if !hit[g.task] && matchOrUnder(g.pattern, p) {
				hit[g.task], counts = true, true
			}
		}
		for i, t := range s.tasks {
			if !hit[i] && slices.ContainsFunc(t.Files, func(f string) bool { return under(f, p) }) {
				hit[i], counts = true, true
			}
		}
		if counts {
			c.Paths = append(c.Paths, p)
		}
	}
	slices.Sort(c.Paths)
	c.Paths = slices.Compact(c.Paths)
	var work []int
	for i, h := range hit {
		if h {
			c.Tasks = append(c.Tasks, s.tasks[i].Name)
			work = append(work, i)
		}
	}
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		if c.Dirty[s.tasks[i].Name] {
			continue
		}
		c.Dirty[s.tasks[i].Name] = true
		work = append(work, s.rdeps[i]...)
	}
	return c
}

// Dir is a directory to watch: its entries, and with Deep every directory
// under it (but those whose names start with "." and the ignored ones).
type Dir struct {
	Path string
	Deep bool
}

// Dirs returns the directories to watch for the set: the base directory
// of each input pattern, the directories of the literal inputs that are
// directories (deep), and those of the script files. Relative to the
// project root, sorted; a directory wanted both deep and not is deep.
func (s *Set) Dirs(isDir func(string) bool) []Dir {
	want := map[string]bool{}
	add := func(dir string, deep bool) {
		want[dir] = want[dir] || deep
	}
	for _, t := range s.tasks {
		for _, in := range t.Inputs {
			for _, b := range glob.Bases(in) {
				add(b.Dir, b.Deep)
				if b.Literal != "" && isDir(b.Literal) {
					add(b.Literal, true)
				}
			}
		}
	}
	for _, sc := range s.scripts {
		add(path.Dir(sc), false)
	}
	out := make([]Dir, 0, len(want))
	for p, deep := range want {
		out = append(out, Dir{Path: p, Deep: deep})
	}
	slices.SortFunc(out, func(a, b Dir) int { return strings.Compare(a.Path, b.Path) })
	return out
}
