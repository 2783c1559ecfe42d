package fingerprint

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Version is the format of Record and of its serialisation. Changing what
// goes into a fingerprint, or how, must bump it, so that old records are
// misses rather than wrong hits.
const Version = 1

// prefix starts every serialisation; it carries Version.
var prefix = fmt.Sprintf("hazlua fingerprint v%d\x00", Version)

// Record holds the parts of a task's fingerprint, as stored after a
// success and compared on the next run. The zero Record is a valid,
// empty record of the current Version once Version is set.
type Record struct {
	Version    int         `json:"version"`
	Definition Definition  `json:"definition"`
	Inputs     []File      `json:"inputs"`      // any order; Sum sorts by Path
	DepOutputs []DepOutput `json:"dep_outputs"` // any order; Sum sorts by Task, Path
	Env        []EnvVar    `json:"env"`         // any order; Sum sorts by Name
}

// Definition is what the build script says of a task. Lists keep the
// order the script gave (pattern order can matter).
type Definition struct {
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

// normalised returns copies of r's unordered parts, sorted.
func (r *Record) normalised() (in []File, deps []DepOutput, env []EnvVar) {
	in = slices.SortedFunc(slices.Values(r.Inputs), func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	deps = slices.SortedFunc(slices.Values(r.DepOutputs), func(a, b DepOutput) int {
		return cmp.Or(cmp.Compare(a.Task, b.Task), cmp.Compare(a.Path, b.Path))
	})
	env = slices.SortedFunc(slices.Values(r.Env), func(a, b EnvVar) int { return cmp.Compare(a.Name, b.Name) })
	return in, deps, env
}

// Sum is the fingerprint: one hash of the canonical serialisation of r.
// The serialisation is the version prefix, then each section as a tag
// byte and a count, each field as an 8-byte big-endian length and its
// bytes, so no two different records serialise alike. The order in which
// inputs, dependency outputs and env variables were given does not count.
func (r *Record) Sum() Sum {
	h := NewHasher()
	w := func(b []byte) { h.Write(b) }
	n := func(x int) { w(binary.BigEndian.AppendUint64(nil, uint64(x))) }
	s := func(x string) { n(len(x)); w([]byte(x)) }
	list := func(tag byte, xs []string) {
		w([]byte{tag})
		n(len(xs))
		for _, x := range xs {
			s(x)
		}
	}
	w([]byte(prefix))
	d := r.Definition
	list('d', d.Deps)
	list('i', d.Inputs)
	list('o', d.Outputs)
	list('k', []string{d.Key})
	list('r', []string{d.Run})
	in, deps, env := r.normalised()
	w([]byte{'I'})
	n(len(in))
	for _, f := range in {
		s(f.Path)
		w(f.Hash[:])
	}
	w([]byte{'D'})
	n(len(deps))
	for _, o := range deps {
		s(o.Task)
		s(o.Path)
		w(o.Hash[:])
	}
	w([]byte{'E'})
	n(len(env))
	for _, e := range env {
		s(e.Name)
		if e.Set {
			w([]byte{1})
			s(e.Value)
		} else {
			w([]byte{0})
		}
	}
	return h.Sum()
}

// Diff names the first difference between the record of the last success
// (old, nil when the task never ran) and the current one, in the words
// --explain uses: "never ran", "definition changed", "input src/a.c
// changed", "input src/b.c added", "input src/b.c removed", "dependency
// output gen:build/x changed" (also added, removed), "env CC changed".
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
	oi, od, oe := old.normalised()
	ni, nd, ne := new.normalised()
	if d := diffSorted("input ", oi, ni, func(f File) string { return f.Path },
		func(a, b File) bool { return a.Hash == b.Hash }); d != "" {
		return d
	}
	if d := diffSorted("dependency output ", od, nd, func(o DepOutput) string { return o.Task + ":" + o.Path },
		func(a, b DepOutput) bool { return a.Hash == b.Hash }); d != "" {
		return d
	}
	return diffSorted("env ", oe, ne, func(e EnvVar) string { return e.Name },
		func(a, b EnvVar) bool { return a == b })
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
	return slices.Equal(a.Deps, b.Deps) && slices.Equal(a.Inputs, b.Inputs) &&
		slices.Equal(a.Outputs, b.Outputs) && a.Key == b.Key && a.Run == b.Run
}
