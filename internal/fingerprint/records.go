package fingerprint

import (
	"encoding/json"
	"errors"
	"fmt"
)

// recordsMagic starts the records file; its last byte is the format
// version (of the file; each record carries its own Version too).
const recordsMagic = "hazlua task records\x00\x01"

// ErrCorruptRecords is wrapped by LoadRecords' error when the records
// file is truncated, corrupt or of another format: it starts empty.
var ErrCorruptRecords = errors.New("fingerprint: task records unreadable, starting empty")

// Records maps task names to the full Record of their last success, kept
// in one file: the detail behind State's two hashes, read only to say
// what changed. Each record is held as its JSON until Get parses it. Safe
// for concurrent use.
type Records struct{ t *table[[]byte] }

var recordsFormat = tableFormat[[]byte]{
	magic: recordsMagic,
	what:  "a task records file",
	size:  8,
	enc:   func(e *encoder, b []byte) { e.str(string(b)) },
	dec:   func(d *decoder) []byte { return []byte(d.str()) },
}

// LoadRecords reads the records in the file at path. A missing file gives
// no records and no error; an unreadable, truncated, corrupt or
// foreign-version file gives an empty, usable Records and an error
// wrapping ErrCorruptRecords.
func LoadRecords(path string) (*Records, error) {
	t, err := loadTable(path, recordsFormat)
	if err != nil {
		return &Records{t}, fmt.Errorf("%w: %v", ErrCorruptRecords, err)
	}
	return &Records{t}, nil
}

// Get returns the last record of the task named name: nil, nil when there
// is none; an error (wrapping ErrVersion for another version) when it
// cannot be parsed or is another task's.
func (r *Records) Get(name string) (*Record, error) {
	data, ok := r.t.get(name)
	if !ok {
		return nil, nil
	}
	rec, err := ParseRecord(data)
	if err == nil && rec.Definition.Name != name {
		err = fmt.Errorf("fingerprint: record of task %q filed under %q", rec.Definition.Name, name)
	}
	return rec, err
}

// Put records rec as the last success of its task (rec.Definition.Name).
func (r *Records) Put(rec *Record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	r.t.set(rec.Definition.Name, data)
	return nil
}

// Dirty reports whether Put was called since the records were loaded or
// saved.
func (r *Records) Dirty() bool { return r.t.dirty() }

// Save writes the records, merged as Index.Save merges.
func (r *Records) Save() error { return r.t.save() }
