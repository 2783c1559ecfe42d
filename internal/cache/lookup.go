package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// Lookup returns the entry stored under key, or (nil, nil) when there is
// none. An entry that is truncated, corrupt, of another format version,
// for another key, has an invalid item (an unclean path, an item outside
// every root, a bad kind) or refers to a blob that is missing gives an
// error wrapping ErrCorrupt, and is removed so that the next run stores a
// fresh one. Lookup is safe to call concurrently with every other method,
// from goroutines or processes.
func (c *Cache) Lookup(key fingerprint.Sum) (*Entry, error) {
	p := c.entryPath(key)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a miss needs no lock: most lookups of a first build
	}
	unlock, err := c.lock(false) // a Prune must not remove blobs while they are checked
	if err != nil {
		return nil, err
	}
	defer unlock()
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: lookup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cache: lookup: %w", err)
	}
	var data []byte
	if fi.Mode().IsRegular() {
		if data, err = io.ReadAll(f); err != nil {
			return nil, fmt.Errorf("cache: lookup: %w", err)
		}
	}
	e, err := decodeEntry(data)
	if err == nil && e.Key != key {
		err = fmt.Errorf("an entry for key %s", e.Key)
	}
	if err == nil {
		for _, b := range e.blobs() {
			if _, serr := os.Lstat(c.blobPath(b)); errors.Is(serr, fs.ErrNotExist) {
				err = fmt.Errorf("blob %s is missing", b)
				break
			} else if serr != nil {
				return nil, fmt.Errorf("cache: lookup: %w", serr)
			}
		}
	}
	if err != nil {
		removeEntry(p, fi)
		return nil, fmt.Errorf("%w %s: %v", ErrCorrupt, p, err)
	}
	return e, nil
}

// removeEntry removes the entry file p (which may be garbage of any kind)
// if it is still
// the file fi describes, not one a concurrent Store has just put there.
func removeEntry(p string, fi fs.FileInfo) {
	if now, err := os.Lstat(p); err == nil && os.SameFile(now, fi) {
		removeTree(p)
	}
}

// OpenLog returns e's recorded log, or (nil, nil) when e has none. The log
// is verified against its hash before OpenLog returns; a missing blob or a
// mismatch gives an error wrapping ErrCorrupt, and the bad blob is
// removed. The caller reads and closes the returned file, which a later
// Prune or Clear does not disturb. OpenLog is safe to call concurrently
// with every other method.
func (c *Cache) OpenLog(e *Entry) (io.ReadCloser, error) {
	if e == nil || e.Log == nil {
		return nil, nil
	}
	p := c.blobPath(*e.Log) // no lock: a blob Prune removes once open stays readable
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: log blob %s is missing", ErrCorrupt, p)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: open log: %w", err)
	}
	sum, err := copyHashed(nil, f)
	if err == nil && sum != *e.Log {
		os.Remove(p)
		err = fmt.Errorf("%w: log blob %s: content does not match its hash", ErrCorrupt, p)
	} else if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		if !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("cache: open log: %w", err)
		}
		return nil, err
	}
	return f, nil
}
