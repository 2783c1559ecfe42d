package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// blobMode is the mode of blobs and entries: never written after they are
// published.
const blobMode = 0o444

// Store stores under key the outputs items, as Snapshot returned them for
// roots (read now from the current directory), and the recorded log (nil:
// none), replacing any entry key had (its hit count is kept).
//
// File contents are copied into blobs named by their hash; a blob that
// already exists is not read or copied again. Every copied file is hashed
// while copied and must match its Item.Hash, else Store fails with an error
// naming the path (it changed since the snapshot) and stores nothing. The
// entry is written last, atomically, after the blobs' data is durable.
// Errors (ENOSPC, EROFS, …) wrap the system error and name the path; an
// invalid roots or items is an error too. A failed Store leaves no entry and
// no temporary file, only perhaps blobs no entry refers to, which Prune
// removes. Store is safe to call concurrently, from goroutines or
// processes, for the same key or others.
func (c *Cache) Store(key fingerprint.Sum, roots []string, items []Item, log io.Reader) error {
	e := &Entry{Key: key, Roots: slices.Clone(roots), Items: slices.Clone(items), Created: time.Now().Round(0)}
	if err := e.check(); err != nil {
		return fmt.Errorf("cache: store %s: %w", key, err)
	}
	unlock, err := c.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	s := &storer{c: c, blobs: make(map[fingerprint.Sum]string)}
	defer s.cleanup()
	if log != nil {
		sum, err := s.storeLog(log)
		if err != nil {
			return err
		}
		e.Log = &sum
	}
	var need []Item // one file per content not yet in the cache
	seen := make(map[fingerprint.Sum]bool)
	for _, it := range e.Items {
		if it.Kind != File || seen[it.Hash] {
			continue
		}
		seen[it.Hash] = true
		if _, err := os.Lstat(c.blobPath(it.Hash)); err != nil {
			need = append(need, it)
		}
	}
	temps := make([]string, len(need))
	err = parallel(len(need), func(i int) error {
		var err error
		temps[i], err = s.copyFile(need[i])
		return err
	})
	for i, tmp := range temps {
		if tmp != "" {
			s.blobs[need[i].Hash] = tmp
		}
	}
	if err != nil {
		return err
	}
	data, err := encodeEntry(e)
	if err != nil {
		return fmt.Errorf("cache: store %s: %w", key, err)
	}
	if s.entry, err = s.writeTemp(func(f *os.File) error {
		_, err := f.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("cache: store: %w", err)
	}
	if err := s.sync(); err != nil {
		return err
	}
	for sum, tmp := range s.blobs {
		if err := publish(tmp, c.blobPath(sum)); err != nil {
			return fmt.Errorf("cache: store: %w", err)
		}
		delete(s.blobs, sum)
	}
	dest := c.entryPath(key)
	if err := publish(s.entry, dest); err != nil {
		return fmt.Errorf("cache: store: %w", err)
	}
	s.entry = ""
	return nil
}

// storer is the state of one Store: the temporary files it made and has
// not published yet. Only the Store's goroutine touches it.
type storer struct {
	c     *Cache
	blobs map[fingerprint.Sum]string // temporary files of new blobs
	entry string                     // temporary file of the entry
}

// cleanup removes the temporary files not published.
func (s *storer) cleanup() {
	for _, t := range s.blobs {
		os.Remove(t)
	}
	if s.entry != "" {
		os.Remove(s.entry)
	}
}

// writeTemp writes a temporary file in DIR/tmp with fill, closes it
// read-only and returns its name. On error it removes the file.
func (s *storer) writeTemp(fill func(f *os.File) error) (string, error) {
	f, err := os.CreateTemp(s.c.path(tmpDir), tempPrefix+"*")
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Chmod(blobMode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// storeLog copies log into a temporary blob (unless its blob exists) and
// returns its hash.
func (s *storer) storeLog(log io.Reader) (fingerprint.Sum, error) {
	var sum fingerprint.Sum
	tmp, err := s.writeTemp(func(f *os.File) error {
		var err error
		if sum, err = copyHashed(f, log); err != nil && !isFileError(err, f) {
			return fmt.Errorf("read: %w", err)
		}
		return err
	})
	if err != nil {
		return sum, fmt.Errorf("cache: store log: %w", err)
	}
	if _, err := os.Lstat(s.c.blobPath(sum)); err == nil {
		os.Remove(tmp)
	} else {
		s.blobs[sum] = tmp
	}
	return sum, nil
}

// copyFile copies the file of it into a temporary blob, checking its
// hash, and returns the temporary file's name.
func (s *storer) copyFile(it Item) (string, error) {
	src, err := os.Open(filepath.FromSlash(it.Path))
	if err != nil {
		return "", fmt.Errorf("cache: store: %w", err)
	}
	defer src.Close()
	var sum fingerprint.Sum
	tmp, err := s.writeTemp(func(f *os.File) error {
		var err error
		sum, err = copyHashed(f, src)
		return err
	})
	if err != nil {
		return "", pathError("store", it.Path, err)
	}
	if sum != it.Hash {
		os.Remove(tmp)
		return "", fmt.Errorf("cache: store %s: changed since the snapshot (content hash %.12s…, snapshot said %.12s…)", it.Path, sum, it.Hash)
	}
	return tmp, nil
}

// sync makes every temporary file of the Store durable (or, with
// DeferSync, leaves that to Sync).
func (s *storer) sync() error {
	dirs := map[uint64]string{0: s.c.path(tmpDir)} // the cache is on one filesystem
	if s.c.DeferSync {
		s.c.deferSync(dirs)
		return nil
	}
	if err := syncDirs(dirs); err != nil {
		return fmt.Errorf("cache: store: %w", err)
	}
	return nil
}

// publish renames tmp to dest, creating dest's directory if it is missing.
func publish(tmp, dest string) error {
	err := os.Rename(tmp, dest)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(dest), dirMode); err == nil {
			err = os.Rename(tmp, dest)
		}
	}
	return err
}

// isFileError reports whether err is a PathError on f.
func isFileError(err error, f *os.File) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Path == f.Name()
}
