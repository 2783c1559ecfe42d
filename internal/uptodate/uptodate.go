// Package uptodate decides whether a task must run. It fingerprints a
// task (internal/fingerprint: its definition, its inputs' contents, its
// dependencies' outputs and its declared environment), compares the
// fingerprint and the task's outputs with the record of its last success
// in the state directory (".haz" under the project root), and, when they
// differ, looks the fingerprint up in the content-addressed cache
// (internal/cache) to restore the outputs instead of running the task.
// After a success it records the task and stores its outputs and output.
//
// It knows nothing of Lua or of the scheduler: the runner calls Check
// before a body, then Restore or, after the body, Commit
// (docs/design.md, "Up to date and the cache").
package uptodate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hazlua/hazlua/internal/cache"
	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/fsutil"
	"github.com/hazlua/hazlua/internal/remotecache"
)

// StateDir is the state directory's name under the project root.
const StateDir = ".haz"

// Files in the state directory.
const (
	stateFile   = "state"      // each task's fingerprint and outputs (fingerprint.State); the stat index is "stat"
	recordsFile = "records"    // each task's last Record, for --explain (records.go)
	lockFile    = "lock"       // held while saving
	ignoreFile  = ".gitignore" // "*": the directory is never committed
	// CacheSubdir is the default cache, under the state directory.
	CacheSubdir = "cache"
)

// Config configures a Store. The zero value records nothing: set Dir.
type Config struct {
	// Dir is the state directory, normally ".haz" under the project
	// root; created (with a .gitignore of "*") when first needed.
	Dir string
	// CacheDir is the cache's directory; "" means Dir/cache.
	CacheDir string
	// NoCache makes every task run: no task is up to date or restored.
	// Successes are still recorded and stored.
	NoCache bool
	// Remote, if set, is the remote cache: a task missing from the local
	// cache is looked up there (a hit is brought into the local cache),
	// and a task stored locally is uploaded in the background, unless
	// Remote is read-only (remote.go).
	Remote *remotecache.Client
	// RemoteFlushTimeout bounds how long Close waits for the uploads;
	// zero: DefaultFlushTimeout.
	RemoteFlushTimeout time.Duration
	// Context, if set, ends the remote cache's requests when it is done
	// (the run was stopped): lookups miss and uploads are abandoned,
	// without a warning.
	Context context.Context
	// Warn, if set, receives each warning (one line, no newline): a
	// corrupt record, an unusable cache. Each kind of problem is reported
	// once per Store. It may be called from any goroutine.
	Warn func(msg string)
}

// Store holds one run's view of the state directory and the cache. Its
// methods are safe for concurrent use; each task is checked on its own
// goroutine. Close saves what the run learnt.
type Store struct {
	cfg     Config
	ix      *fingerprint.Index
	state   *fingerprint.State
	records records
	loaded  [2]fileID // the state and index files as Open read them

	mu       sync.Mutex
	warned   map[string]bool
	dirMade  bool
	cache    *cache.Cache
	cacheErr bool // the cache could not be opened or a store hit a full or read-only disk: no more stores

	storeOnce sync.Once
	stores    *storeQueue // Commit's stores, run in the background (commit.go)

	remote *remote // nil without Config.Remote
}

// Open loads the state directory's stat index and task state. It never
// fails: an unreadable or corrupt file is a warning and starts empty, as
// if no task had run. It may run while the script does (Changed says
// whether to open again); Open itself writes nothing.
func Open(cfg Config) *Store {
	s := &Store{cfg: cfg, warned: map[string]bool{}}
	if s.cfg.CacheDir == "" {
		s.cfg.CacheDir = filepath.Join(cfg.Dir, CacheSubdir)
	}
	if cfg.Remote != nil {
		s.remote = newRemote(cfg.Context, cfg.Remote, cfg.RemoteFlushTimeout)
	}
	s.loaded = s.files()
	ix, err := fingerprint.LoadIndex(cfg.Dir)
	if err != nil {
		s.warn("index", "%v", err)
	}
	s.ix = ix
	st, err := fingerprint.LoadState(filepath.Join(cfg.Dir, stateFile))
	if err != nil {
		s.warn("state", "%v", err)
	}
	s.state = st
	s.records.path = filepath.Join(cfg.Dir, recordsFile)
	s.records.warn = s.warn
	return s
}

// fileID tells a file's version apart: a save replaces the file (a new
// inode), a removal makes it missing.
type fileID struct {
	ino, size int64
	mtime     int64
	exists    bool
}

// files returns the IDs of the state and index files now.
func (s *Store) files() (ids [2]fileID) {
	for i, name := range []string{stateFile, fingerprint.IndexFile} {
		if fi, err := os.Stat(filepath.Join(s.cfg.Dir, name)); err == nil {
			ids[i] = fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano(), exists: true}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				ids[i].ino = int64(st.Ino)
			}
		}
	}
	return ids
}

// Changed reports whether the state or the index file was replaced or
// removed since Open read it (by the script, or another run): a Store
// opened early, while the script ran, must then be opened again.
func (s *Store) Changed() bool { return s.files() != s.loaded }

// Index returns the stat index, so that other hashing (haz.hash.file)
// shares it.
func (s *Store) Index() *fingerprint.Index { return s.ix }

// SetWarn replaces the function that receives warnings (Config.Warn).
// Call it before the Store is used from several goroutines.
func (s *Store) SetWarn(warn func(msg string)) { s.cfg.Warn = warn }

// warn reports a problem of kind once.
func (s *Store) warn(kind, format string, a ...any) {
	s.mu.Lock()
	first := !s.warned[kind]
	s.warned[kind] = true
	s.mu.Unlock()
	if first && s.cfg.Warn != nil {
		s.cfg.Warn(fmt.Sprintf(format, a...))
	}
}

// makeDir creates the state directory and its .gitignore, once.
func (s *Store) makeDir() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirMade {
		return nil
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return err
	}
	ignore := filepath.Join(s.cfg.Dir, ignoreFile)
	if _, err := os.Lstat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("# made by hazlua: its state and cache are never committed\n*\n"), 0o644); err != nil {
			return err
		}
	}
	s.dirMade = true
	return nil
}

// openCache returns the cache, opening it (creating it when create is
// true) at the first call that needs it; nil when there is none to read,
// or it cannot be used (warned once).
func (s *Store) openCache(create bool) *cache.Cache {
	s.mu.Lock()
	c, failed := s.cache, s.cacheErr
	s.mu.Unlock()
	if c != nil || failed {
		return c
	}
	if !create {
		if _, err := os.Stat(s.cfg.CacheDir); err != nil {
			return nil // nothing stored yet
		}
	}
	if s.cfg.CacheDir == filepath.Join(s.cfg.Dir, CacheSubdir) {
		if err := s.makeDir(); err != nil {
			s.disableCache(fmt.Errorf("cache: %w", err))
			return nil
		}
	}
	c, err := cache.Open(s.cfg.CacheDir)
	if err != nil {
		s.disableCache(err)
		return nil
	}
	// Stores and restores are made durable once, by Close, before the
	// state that records them: each task paid a syncfs(2) otherwise.
	c.DeferSync = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = c
	}
	return s.cache
}

// disableCache stops using the cache for the rest of the run.
func (s *Store) disableCache(err error) {
	s.mu.Lock()
	s.cacheErr = true
	s.cache = nil
	s.mu.Unlock()
	s.warn("cache", "%v: running without the cache", err)
}

// diskFull reports whether err says the disk is full or read-only, after
// which storing again is pointless.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) ||
		errors.Is(err, syscall.EDQUOT) || errors.Is(err, os.ErrPermission)
}

// Close waits for the queued stores, then for the queued uploads (at
// most Config.RemoteFlushTimeout), then saves the stat index and the
// task state, merged with what other runs saved meanwhile, under the state
// directory's lock. An error means the next run reruns what this one
// recorded; the caller warns. Nothing may use the Store after Close.
func (s *Store) Close() error {
	s.drainStores()
	s.closeRemote()
	if !s.state.Dirty() && !s.ix.Dirty() && !s.records.pending() {
		return nil
	}
	if err := s.makeDir(); err != nil {
		return fmt.Errorf("state %s: %w", s.cfg.Dir, err)
	}
	s.mu.Lock()
	c := s.cache
	s.mu.Unlock()
	if c != nil {
		// What the state will say was stored or restored must be on disk
		// first (cache.Cache.DeferSync).
		if err := c.Sync(); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	unlock, err := fsutil.Lock(filepath.Join(s.cfg.Dir, lockFile), false)
	if err != nil {
		return err
	}
	defer unlock()
	err = s.records.save()
	if e := s.state.Save(); err == nil {
		err = e
	}
	if e := s.ix.Save(); err == nil {
		err = e
	}
	return err
}
