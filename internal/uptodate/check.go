package uptodate

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"syscall"

	"github.com/hazlua/hazlua/internal/cache"
	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/glob"
)

// Spec is what the fingerprint sees of a task's definition.
type Spec struct {
	Name    string
	Deps    []string // as declared
	Inputs  []string // glob patterns; nil: the task has no fingerprint and always runs
	Outputs []string // paths or globs
	Key     string
	Env     []string             // names of the environment variables that are part of the key
	Source  string               // the body's definition (its source text)
	Always  bool                 // never up to date, never restored, never stored
	Params  []fingerprint.EnvVar // the task's parameters and their values in this run
}

// Action is what Check decided.
type Action int

const (
	// Run the body.
	Run Action = iota
	// UpToDate: skip the body; the outputs are those of the last
	// success.
	UpToDate
	// Restore the outputs and the recorded output from the cache
	// (Store.Restore) instead of running the body.
	Restore
)

// String returns "will run", "up to date" or "will be restored from the
// cache", as --dry-run and --explain say it.
func (a Action) String() string {
	switch a {
	case UpToDate:
		return "up to date"
	case Restore:
		return "will be restored from the cache"
	}
	return "will run"
}

// Reasons given when a task runs without a fingerprint comparison.
const (
	ReasonNoInputs = "no inputs declared"
	ReasonAlways   = "always = true"
	ReasonNoCache  = "--no-cache"
	ReasonNeverRan = "never ran"
	// ReasonRemote is added to the reason of a task found in the remote
	// cache.
	ReasonRemote = "found in the remote cache"
)

// Check is the decision for one task, and what Restore and Commit need.
type Check struct {
	Action Action
	// Reason says why the task is not up to date ("input src/a.c
	// changed"); "" when it is.
	Reason string
	// Inputs are the expanded inputs, sorted (for the body's t.inputs).
	Inputs []string
	// Outputs are the task's outputs as its dependents see them: now
	// (UpToDate) or as the cache holds them (Restore); nil for Run.
	Outputs []fingerprint.File

	rec   *fingerprint.Record // nil without inputs
	sum   fingerprint.Sum
	entry *cache.Entry
}

// Check decides whether the task sp must run, given the outputs of its
// dependencies (deps). It reads the file system and the state, never
// changes an output, and is also the dry run's prediction. Problems with
// the state or the cache are warnings and make the task run.
func (s *Store) Check(sp *Spec, deps []fingerprint.DepOutput) *Check {
	c := &Check{}
	if sp.Inputs == nil {
		c.Reason = ReasonNoInputs
		return c
	}
	c.Inputs, c.rec = s.record(sp, deps)
	if sp.Always {
		c.Reason = ReasonAlways
		return c
	}
	if s.cfg.NoCache {
		c.Reason = ReasonNoCache
		return c
	}
	c.sum = c.rec.Sum()
	last, ok := s.state.Get(sp.Name)
	switch {
	case !ok:
		c.Reason = ReasonNeverRan
	case last.Fingerprint != c.sum:
		c.Reason = s.whyChanged(sp.Name, c.rec)
	default:
		now, why := s.outputsNow(sp.Outputs)
		if why == "" && fingerprint.OutputsSum(now) == last.Outputs {
			c.Action = UpToDate
			c.Outputs = now
			return c
		}
		if why == "" {
			why = s.whyOutputs(sp.Name, now)
		}
		c.Reason = why
	}
	if cc := s.openCache(s.remote != nil); cc != nil {
		e, err := cc.Lookup(c.sum)
		if err != nil {
			s.warn("corrupt entry", "task %s: %v: running it", sp.Name, err)
		}
		if e == nil && s.fetch(cc, sp.Name, c.sum) {
			if e, err = cc.Lookup(c.sum); err != nil {
				s.warn("corrupt entry", "task %s: %v: running it", sp.Name, err)
			} else if e != nil {
				c.Reason += "; " + ReasonRemote
			}
		}
		if e != nil {
			c.Action = Restore
			c.entry = e
			c.Outputs = itemFiles(e.Items)
		}
	}
	return c
}

// record builds the task's current fingerprint record and returns it
// with the expanded inputs.
func (s *Store) record(sp *Spec, deps []fingerprint.DepOutput) ([]string, *fingerprint.Record) {
	rec := &fingerprint.Record{
		Version: fingerprint.Version,
		Definition: fingerprint.Definition{
			Name: sp.Name, Deps: sp.Deps, Inputs: sp.Inputs, Outputs: sp.Outputs, Key: sp.Key, Run: sp.Source,
		},
		DepOutputs: deps,
		Params:     sp.Params,
	}
	paths, files := s.hashInputs(sp.Inputs)
	rec.Inputs = files
	for _, name := range sp.Env {
		v, ok := os.LookupEnv(name)
		rec.Env = append(rec.Env, fingerprint.EnvVar{Name: name, Value: v, Set: ok})
	}
	return paths, rec
}

// Markers for inputs that are not regular files: a directory (its
// entries count only when the patterns match them) and a path that
// cannot be read (a dangling symlink, a file without permission).
var (
	dirSum        = fingerprint.HashBytes([]byte("hazlua: directory"))
	unreadableSum = fingerprint.HashBytes([]byte("hazlua: unreadable"))
)

// hashInputs expands the input patterns and hashes every match through
// the stat index. Patterns without wildcards skip the walk: the index's
// stat says whether the file exists.
func (s *Store) hashInputs(patterns []string) ([]string, []fingerprint.File) {
	var paths []string
	var files []fingerprint.File
	// add hashes the input p; literal says that p is a pattern's path, not
	// a match Expand found (which exists), so that it may be missing.
	add := func(p string, literal bool) {
		h, err := s.ix.Lookup(p)
		switch {
		case err == nil:
		case errors.Is(err, syscall.EISDIR):
			h = dirSum
		case literal && errors.Is(err, fs.ErrNotExist):
			if _, lerr := os.Lstat(p); lerr != nil {
				return // no such file: the pattern matches nothing
			}
			h = unreadableSum // a dangling symlink: Expand lists it
		default:
			h = unreadableSum
		}
		paths = append(paths, p)
		files = append(files, fingerprint.File{Path: p, Hash: h})
	}
	literal := make([]string, 0, len(patterns))
	for _, p := range patterns {
		lit, ok := glob.Literal(p)
		if !ok {
			literal = nil
			break
		}
		literal = append(literal, lit)
	}
	if literal != nil {
		slices.Sort(literal)
		for _, p := range slices.Compact(literal) {
			add(p, true)
		}
		return paths, files
	}
	matched, err := glob.Expand(patterns)
	if err != nil {
		return nil, nil // checked when the task was declared
	}
	for _, p := range matched {
		add(p, false)
	}
	return paths, files
}

// whyChanged names the first difference between the task's last record
// and rec.
func (s *Store) whyChanged(name string, rec *fingerprint.Record) string {
	old := s.records.load(name)
	if old == nil {
		return "fingerprint changed"
	}
	if d := fingerprint.Diff(old, rec); d != "" {
		return d
	}
	return "fingerprint changed"
}

// whyOutputs names the first output that differs from the last record.
func (s *Store) whyOutputs(name string, now []fingerprint.File) string {
	if old := s.records.load(name); old != nil {
		if d := fingerprint.DiffOutputs(old.Outputs, now); d != "" {
			return d
		}
	}
	return "outputs changed since the last run"
}
