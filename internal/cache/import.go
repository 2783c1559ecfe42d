package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// This file is what a remote cache needs of the local one: entries and
// blobs read whole for an upload, and entries and blobs brought in from
// elsewhere, checked before they are published like those Store writes.

// EntryData returns the entry file stored under key as it is on disk (a
// JSON line and its checksum line) and the entry it holds, or (nil, nil,
// nil) when there is none. A bad entry is an error wrapping ErrCorrupt,
// as Lookup's.
func (c *Cache) EntryData(key fingerprint.Sum) ([]byte, *Entry, error) {
	data, err := os.ReadFile(c.entryPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cache: read entry: %w", err)
	}
	e, err := ParseEntry(key, data)
	if err != nil {
		return nil, nil, err
	}
	return data, e, nil
}

// ParseEntry decodes and checks an entry file's content, which must be
// the entry of key; an error wraps ErrCorrupt.
func ParseEntry(key fingerprint.Sum, data []byte) (*Entry, error) {
	e, err := decodeEntry(data)
	if err == nil && e.Key != key {
		err = fmt.Errorf("an entry for key %s", e.Key)
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrCorrupt, key, err)
	}
	return e, nil
}

// Blobs returns the blobs e refers to (its files' contents and its log),
// each once.
func (e *Entry) Blobs() []fingerprint.Sum { return e.blobs() }

// HasBlob reports whether the blob sum is in the cache.
func (c *Cache) HasBlob(sum fingerprint.Sum) bool {
	_, err := os.Lstat(c.blobPath(sum))
	return err == nil
}

// OpenBlob opens the blob sum for reading, and returns its size. The
// caller closes it; a later Prune does not disturb it.
func (c *Cache) OpenBlob(sum fingerprint.Sum) (*os.File, int64, error) {
	f, err := os.Open(c.blobPath(sum))
	if err != nil {
		return nil, 0, fmt.Errorf("cache: open blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("cache: open blob: %w", err)
	}
	return f, fi.Size(), nil
}

// ImportBlob adds the blob sum, whose content fill writes, unless the
// cache has it. The content goes to a temporary file, hashed as it is
// written, and is published only when fill succeeded and the content
// hashes to sum: else nothing is added, and the error is fill's or one
// wrapping ErrCorrupt. Like Store, it is safe to call concurrently.
func (c *Cache) ImportBlob(sum fingerprint.Sum, fill func(w io.Writer) error) error {
	if c.HasBlob(sum) {
		return nil
	}
	unlock, err := c.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	s := &storer{c: c, blobs: make(map[fingerprint.Sum]string)}
	defer s.cleanup()
	var got fingerprint.Sum
	var fillErr error
	tmp, err := s.writeTemp(func(f *os.File) error {
		h := fingerprint.NewHasher()
		if fillErr = fill(io.MultiWriter(f, h)); fillErr != nil {
			return fillErr
		}
		got = h.Sum()
		return nil
	})
	if fillErr != nil {
		return fillErr
	}
	if err != nil {
		return fmt.Errorf("cache: import blob: %w", err)
	}
	s.blobs[sum] = tmp
	if got != sum {
		return fmt.Errorf("%w: imported blob %s: content hashes to %s", ErrCorrupt, sum, got)
	}
	if err := s.sync(); err != nil {
		return err
	}
	if err := publish(tmp, c.blobPath(sum)); err != nil {
		return fmt.Errorf("cache: import blob: %w", err)
	}
	delete(s.blobs, sum)
	return nil
}

// ImportEntry publishes data, an entry file's content (as EntryData
// returns it), under key, once ParseEntry accepts it and every blob it
// refers to is in the cache (else the error wraps ErrCorrupt and nothing
// changes). An entry key had is replaced.
func (c *Cache) ImportEntry(key fingerprint.Sum, data []byte) error {
	e, err := ParseEntry(key, data)
	if err != nil {
		return err
	}
	unlock, err := c.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	for _, b := range e.blobs() {
		if !c.HasBlob(b) {
			return fmt.Errorf("%w: imported entry %s: blob %s is missing", ErrCorrupt, key, b)
		}
	}
	s := &storer{c: c}
	defer s.cleanup()
	if s.entry, err = s.writeTemp(func(f *os.File) error {
		_, err := f.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("cache: import entry: %w", err)
	}
	if err := s.sync(); err != nil {
		return err
	}
	if err := publish(s.entry, c.entryPath(key)); err != nil {
		return fmt.Errorf("cache: import entry: %w", err)
	}
	s.entry = ""
	return nil
}
