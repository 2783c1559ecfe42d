package fingerprint

import (
	"errors"
	"fmt"
)

// stateMagic starts the task state file; its last byte is the format
// version.
const stateMagic = "hazlua task state\x00\x01"

// ErrCorruptState is wrapped by LoadState's error when the state file is
// truncated, corrupt or of another format: the state starts empty.
var ErrCorruptState = errors.New("fingerprint: task state unreadable, starting empty")

// Last is what the state keeps of a task's last success: its
// fingerprint (Record.Sum) and the hash of its outputs then (OutputsSum).
type Last struct {
	Fingerprint Sum
	Outputs     Sum
}

// State maps task names to their Last success, kept in one file: small
// enough to load whole at every run (two hashes a task), where the full
// Records that say what changed are read only when a task must run. Safe
// for concurrent use.
type State struct{ t *table[Last] }

var stateFormat = tableFormat[Last]{
	magic: stateMagic,
	what:  "a task state",
	size:  2 * len(Sum{}),
	enc:   func(e *encoder, l Last) { e.sum(l.Fingerprint); e.sum(l.Outputs) },
	dec:   func(d *decoder) Last { return Last{Fingerprint: d.sum(), Outputs: d.sum()} },
}

// LoadState reads the state in the file at path. A missing file gives an
// empty state and no error; an unreadable, truncated, corrupt or
// foreign-version file gives an empty, usable state and an error
// wrapping ErrCorruptState.
func LoadState(path string) (*State, error) {
	t, err := loadTable(path, stateFormat)
	if err != nil {
		return &State{t}, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	return &State{t}, nil
}

// Get returns the last success of the task named name.
func (s *State) Get(name string) (Last, bool) { return s.t.get(name) }

// Set records the last success of the task named name.
func (s *State) Set(name string, l Last) { s.t.set(name, l) }

// Dirty reports whether Set was called since the state was loaded or
// saved.
func (s *State) Dirty() bool { return s.t.dirty() }

// Save writes the state, merged as Index.Save merges.
func (s *State) Save() error { return s.t.save() }

// OutputsSum is the hash of a task's outputs: their sorted paths and
// hashes.
func OutputsSum(files []File) Sum {
	e := newEncoder("hazlua outputs\x00", len(files)*64)
	e.u64(uint64(len(files)))
	for _, f := range files {
		e.str(f.Path)
		e.sum(f.Hash)
	}
	return HashBytes(e.b)
}
