package uptodate

import (
	"sync"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// records is the run's view of the tasks' full Records (one file,
// fingerprint.Records), which name what changed for --explain. It is
// loaded at the first task that is not up to date, so a run with nothing
// to do never reads it, and saved when the Store is closed.
type records struct {
	path string
	warn func(kind, format string, a ...any)

	once sync.Once
	rs   *fingerprint.Records
}

// get loads the file once and returns it.
func (r *records) get() *fingerprint.Records {
	r.once.Do(func() {
		var err error
		if r.rs, err = fingerprint.LoadRecords(r.path); err != nil {
			r.warn("records", "%v", err)
		}
	})
	return r.rs
}

// load returns the last record of the task named name, or nil.
func (r *records) load(name string) *fingerprint.Record {
	rec, err := r.get().Get(name)
	if err != nil {
		r.warn("record", "task %s: last record unreadable (%v)", name, err)
		return nil
	}
	return rec
}

// put records rec as its task's last success.
func (r *records) put(rec *fingerprint.Record) {
	if err := r.get().Put(rec); err != nil {
		r.warn("record", "task %s: %v", rec.Definition.Name, err)
	}
}

// pending reports whether put was called since the file was loaded.
func (r *records) pending() bool { return r.rs != nil && r.rs.Dirty() }

// save writes the records if put was called.
func (r *records) save() error {
	if !r.pending() {
		return nil
	}
	return r.rs.Save()
}
