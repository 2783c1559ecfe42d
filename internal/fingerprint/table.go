package fingerprint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/hazlua/hazlua/internal/fsutil"
)

// table is a map from names to V kept in one framed file (codec.go): the
// stat index and the task state. It remembers which names were set or
// dropped since it was loaded, so that save merges them over the file as
// another process may have saved it meanwhile. Safe for concurrent use.
type table[V any] struct {
	path   string
	format tableFormat[V]

	mu      sync.Mutex
	entries map[string]V
	changed map[string]bool // set or dropped since load or save
}

// tableFormat says how a table's file is written.
type tableFormat[V any] struct {
	magic string // ends with the format version
	what  string // "a stat index", for errors
	size  int    // bytes of one value in the file
	enc   func(*encoder, V)
	dec   func(*decoder) V
}

// loadTable reads the table in the file at path. A missing file is an
// empty table and no error; an unreadable, truncated, corrupt or
// foreign-version file is an empty, usable table and an error naming
// the file.
func loadTable[V any](path string, f tableFormat[V]) (*table[V], error) {
	t := &table[V]{path: path, format: f, entries: map[string]V{}, changed: map[string]bool{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err == nil {
		var m map[string]V
		if m, err = t.decode(data); err == nil {
			t.entries = m
			return t, nil
		}
	}
	return t, fmt.Errorf("%s: %v", path, err)
}

func (t *table[V]) get(name string) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.entries[name]
	return v, ok
}

func (t *table[V]) set(name string, v V) {
	t.mu.Lock()
	t.entries[name] = v
	t.changed[name] = true
	t.mu.Unlock()
}

func (t *table[V]) drop(name string) {
	t.mu.Lock()
	if _, ok := t.entries[name]; ok {
		delete(t.entries, name)
		t.changed[name] = true
	}
	t.mu.Unlock()
}

func (t *table[V]) dirty() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.changed) > 0
}

// save writes the table atomically (its directory created if need be)
// when something changed: the file as it is now, with the names set or
// dropped here applied over it. Without a lock held across save by every
// writer, the last saver wins, which costs the other's entries (a rerun
// or a rehash), never a wrong one.
func (t *table[V]) save() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.changed) == 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(t.path), 0o755); err != nil {
		return err
	}
	merged := t.entries
	if data, err := os.ReadFile(t.path); err == nil {
		if disk, err := t.decode(data); err == nil {
			for name := range t.changed {
				if v, ok := t.entries[name]; ok {
					disk[name] = v
				} else {
					delete(disk, name)
				}
			}
			merged = disk
		}
	}
	err := fsutil.WriteFileAtomic(t.path, func(w io.Writer) error {
		_, err := w.Write(t.encode(merged))
		return err
	})
	if err == nil {
		t.entries = merged
		clear(t.changed)
	}
	return err
}

// encode serialises m: a count, then each name and value.
func (t *table[V]) encode(m map[string]V) []byte {
	e := newEncoder(t.format.magic, len(m)*(t.format.size+48))
	e.u64(uint64(len(m)))
	for name, v := range m {
		e.str(name)
		t.format.enc(e, v)
	}
	return e.bytes()
}

// decode is the inverse of encode; it fails, never panics, on any
// malformed input.
func (t *table[V]) decode(data []byte) (map[string]V, error) {
	d, err := newDecoder(data, t.format.magic, t.format.what)
	if err != nil {
		return nil, err
	}
	n := d.count(uint64(8 + t.format.size))
	m := make(map[string]V, n)
	for range n {
		name := d.str()
		m[name] = t.format.dec(d)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return m, nil
}
