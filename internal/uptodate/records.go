package uptodate

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// records keeps each task's full Record of its last success, one JSON
// file per task in dir, so that --explain can name what changed. They
// are read only when a task's fingerprint or outputs differ from its
// state, and written when the Store is closed (a record lost to a crash
// costs a vaguer reason, never a wrong decision: the state decides).
type records struct {
	dir  string
	mu   sync.Mutex
	todo map[string]*fingerprint.Record // written by save
}

// file returns the record file of the task named name: a hash of the
// name, as names may hold any character.
func (r *records) file(name string) string {
	sum := fingerprint.HashBytes([]byte(name))
	return filepath.Join(r.dir, hex.EncodeToString(sum[:16])+".json")
}

// load returns the last record of the task named name: nil, nil when
// there is none; an error when it is unreadable or of another version.
func (r *records) load(name string) (*fingerprint.Record, error) {
	r.mu.Lock()
	rec := r.todo[name]
	r.mu.Unlock()
	if rec != nil {
		return rec, nil
	}
	data, err := os.ReadFile(r.file(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err = fingerprint.ParseRecord(data)
	if err == nil && rec.Definition.Name != name {
		err = errors.New("record of another task")
	}
	return rec, err
}

// put queues rec as the last record of its task.
func (r *records) put(rec *fingerprint.Record) {
	r.mu.Lock()
	if r.todo == nil {
		r.todo = map[string]*fingerprint.Record{}
	}
	r.todo[rec.Definition.Name] = rec
	r.mu.Unlock()
}

func (r *records) pending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.todo) > 0
}

// save writes the queued records, each by a rename (not synced: see
// records).
func (r *records) save() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.todo) == 0 {
		return nil
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	var first error
	for name, rec := range r.todo {
		data, err := json.Marshal(rec)
		if err == nil {
			err = writeRenamed(r.file(name), data)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	clear(r.todo)
	return first
}

// writeRenamed writes data to a temporary file beside path and renames
// it over path: a reader sees the old file or the new one.
func writeRenamed(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".haz-tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
