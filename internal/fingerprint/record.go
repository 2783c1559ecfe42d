package fingerprint

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Version is the format of Record and of its serialisation. Changing what
// goes into a fingerprint, or how, must bump it, so that old records are
// misses rather than wrong hits.
const Version = 3

// prefix starts every serialisation; it carries Version (a constant, not
// formatted at init: every run pays for what init does).
const prefix = "hazlua fingerprint v3\x00"

// Record holds the parts of a task's fingerprint, as stored after a
// success and compared on the next run. The zero Record is a valid,
// empty record of the current Version once Version is set.
type Record struct {
	Version    int         `json:"version"`
	Definition Definition  `json:"definition"`
	Inputs     []File      `json:"inputs"`      // any order; Sum sorts by Path
	DepOutputs []DepOutput `json:"dep_outputs"` // any order; Sum sorts by Path, Task
	Env        []EnvVar    `json:"env"`         // any order; Sum sorts by Name
	Params     []EnvVar    `json:"params"`      // the task's parameters and their values; any order
	// Outputs are the task's outputs after its success, sorted by Path:
	// not part of Sum (they are the result, not the cause), compared by
	// DiffOutputs.
	Outputs []File `json:"outputs,omitempty"`
}

// Definition is what the build script says of a task. Lists keep the
// order the script gave (pattern order can matter).
type Definition struct {
	Name    string   `json:"name"`
	Deps    []string `json:"deps"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	Key     string   `json:"key"`
	Run     string   `json:"run"` // source text of the run function
}

// File is one expanded input and its content hash.
type File struct {
	Path string `json:"path"`
	Hash Sum    `json:"hash"`
}

// DepOutput is one output file of a hard dependency and its content hash.
type DepOutput struct {
	Task string `json:"task"`
	Path string `json:"path"`
	Hash Sum    `json:"hash"`
}

// EnvVar is a declared environment variable; Set is false when it is
// absent, which differs from set to "".
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Set   bool   `json:"set"`
}

// ErrVersion is wrapped by ParseRecord's error for a record of another
// format.
var ErrVersion = errors.New("fingerprint: record of another version")

// ParseRecord decodes a record written by json.Marshal of a *Record. A
// malformed record or one of another Version is an error (a miss for the
// caller), never a panic.
func ParseRecord(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("fingerprint: record: %w", err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%w (%d, want %d)", ErrVersion, r.Version, Version)
	}
	return &r, nil
}

// normalised returns r's unordered parts sorted: themselves when they are
// (inputs come sorted from the glob), else sorted copies.
func (r *Record) normalised() (in []File, deps []DepOutput, env, params []EnvVar) {
	byName := func(a, b EnvVar) int { return cmp.Compare(a.Name, b.Name) }
	return sortedCopy(r.Inputs, func(a, b File) int { return cmp.Compare(a.Path, b.Path) }),
		sortedCopy(r.DepOutputs, func(a, b DepOutput) int {
			return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Task, b.Task))
		}),
		sortedCopy(r.Env, byName), sortedCopy(r.Params, byName)
}

// sortedCopy returns s if it is sorted by cmp, else a sorted copy.
func sortedCopy[T any](s []T, cmp func(a, b T) int) []T {
	if slices.IsSortedFunc(s, cmp) {
		return s
	}
	return slices.SortedFunc(slices.Values(s), cmp)
}

// Sum is the fingerprint: one hash of the canonical serialisation of r.
// The serialisation is the version prefix, then each section as a tag
// byte and a count, each field as an 8-byte big-endian length and its
// bytes, so no two different records serialise alike. The order in which
// inputs, dependency outputs and env variables were given does not count.
func (r *Record) Sum() Sum {
	d := r.Definition
	in, deps, env, params := r.normalised()
	e := newEncoder(prefix, len(d.Run)+len(in)*80+len(deps)*100)
	tag := func(t byte) { e.b = append(e.b, t) }
	list := func(t byte, xs ...string) {
		tag(t)
		e.u64(uint64(len(xs)))
		for _, x := range xs {
			e.str(x)
		}
	}
	list('n', d.Name)
	list('d', d.Deps...)
	list('i', d.Inputs...)
	list('o', d.Outputs...)
	list('k', d.Key)
	list('r', d.Run)
	tag('I')
	e.u64(uint64(len(in)))
	for _, f := range in {
		e.str(f.Path)
		e.sum(f.Hash)
	}
	tag('D')
	e.u64(uint64(len(deps)))
	for _, o := range deps {
		e.str(o.Task)
		e.str(o.Path)
		e.sum(o.Hash)
	}
	for _, sec := range []struct {
		tag  byte
		vars []EnvVar
	}{{'E', env}, {'P', params}} {
		tag(sec.tag)
		e.u64(uint64(len(sec.vars)))
		for _, v := range sec.vars {
			e.str(v.Name)
			if v.Set {
				tag(1)
				e.str(v.Value)
			} else {
				tag(0)
			}
		}
	}
	return HashBytes(e.b)
}

// Diff names the first difference between the record of the last success
// (old, nil when the task never ran) and the current one, in the words
// --explain uses: "never ran", "definition changed", "input src/a.c
// changed", "input src/b.c added", "input src/b.c removed", "dependency
// output build/x.h changed" (also added, removed: outputs are unique to
// their task), "env CC changed", "parameter env changed".
// Sections are compared in that order. It returns "" when Sum would be
// equal.
func Diff(old, new *Record) string {
	if old == nil {
		return "never ran"
	}
	if old.Version != new.Version {
		return "fingerprint format changed"
	}
	if !equalDefinition(old.Definition, new.Definition) {
		return "definition changed"
	}
	oi, od, oe, op := old.normalised()
	ni, nd, ne, np := new.normalised()
	if d := diffSorted("input ", oi, ni, func(f File) string { return f.Path },
		func(a, b File) bool { return a.Hash == b.Hash }); d != "" {
		return d
	}
	if d := diffSorted("dependency output ", od, nd, func(o DepOutput) string { return o.Path },
		func(a, b DepOutput) bool { return a.Hash == b.Hash }); d != "" {
		return d
	}
	if d := diffSorted("env ", oe, ne, func(e EnvVar) string { return e.Name },
		func(a, b EnvVar) bool { return a == b }); d != "" {
		return d
	}
	return diffSorted("parameter ", op, np, func(e EnvVar) string { return e.Name },
		func(a, b EnvVar) bool { return a == b })
}

// DiffOutputs names the first difference between the outputs recorded
// after the last success and the outputs found now (both sorted by Path):
// "output build/app missing", "output build/app changed since the last
// run" (also for an output that was not there). It returns "" when they
// are the same.
func DiffOutputs(old, now []File) string {
	i, j := 0, 0
	for i < len(old) || j < len(now) {
		switch {
		case j == len(now) || i < len(old) && old[i].Path < now[j].Path:
			return "output " + old[i].Path + " missing"
		case i == len(old) || now[j].Path < old[i].Path:
			return "output " + now[j].Path + " changed since the last run"
		case old[i].Hash != now[j].Hash:
			return "output " + now[j].Path + " changed since the last run"
		}
		i++
		j++
	}
	return ""
}

// diffSorted walks two lists sorted by key and names the first key
// added, removed or changed.
func diffSorted[T any](what string, old, new []T, key func(T) string, same func(a, b T) bool) string {
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || i < len(old) && key(old[i]) < key(new[j]):
			return what + key(old[i]) + " removed"
		case i == len(old) || key(new[j]) < key(old[i]):
			return what + key(new[j]) + " added"
		case !same(old[i], new[j]):
			return what + key(new[j]) + " changed"
		}
		i++
		j++
	}
	return ""
}

// equalDefinition reports whether two definitions are the same.
func equalDefinition(a, b Definition) bool {
	return a.Name == b.Name && slices.Equal(a.Deps, b.Deps) && slices.Equal(a.Inputs, b.Inputs) &&
		slices.Equal(a.Outputs, b.Outputs) && a.Key == b.Key && a.Run == b.Run
}
