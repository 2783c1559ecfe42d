// Package cache is hazlua's local content-addressed cache of task results:
// after a task succeeds the runner stores its outputs and recorded log
// under the task's fingerprint, and a later run with the same fingerprint
// restores them instead of running the task. It knows nothing of Lua or of
// the runner.
//
// # Layout
//
// A cache directory DIR holds:
//
//	DIR/VERSION                 "hazlua cache 2\n"; Open refuses another
//	DIR/lock                    flock(2) (fsutil.Lock): shared for Store,
//	                            Restore, Stats and a Lookup that finds an
//	                            entry; exclusive for Prune, Clear
//	DIR/tmp/.haz-tmp-*          blobs and entries being written (same
//	                            filesystem as blobs/ and entries/)
//	DIR/blobs/abcd…             file contents and logs, named by the
//	                            SHA-256 of their content (64 hex digits),
//	                            mode 0444, never rewritten in place
//	DIR/entries/abcd…           one entry per task fingerprint (mode 0444);
//	                            its mtime is its last use: when it was
//	                            stored or last restored
//	DIR/hits                    one byte appended per restore: its size is
//	                            the hit count
//
// Prune removes the least recently used entries first.
//
// An entry file is the JSON of the entry (with a format version and the
// key) on one line, then "sha256:" and the hex SHA-256 of that line, so any
// truncation or flipped bit is detected. Paths and symlink targets that are
// not valid UTF-8 are stored as {"base64": "…"} so that every byte survives.
//
// # Atomicity and durability
//
// Store copies new blobs into DIR/tmp (hashing them as it copies), writes
// the entry there too, makes all of it durable with one syncfs(2) of the
// cache's filesystem, then renames the blobs and finally the entry into
// place. A crash leaves only files in DIR/tmp, which Open (when no other
// process is using the cache) and Prune remove. Lookup checks that every
// blob an entry names exists, so an entry whose blob rename was lost in a
// crash is a miss, never a wrong hit.
//
// Restore stages each output root next to its destination under a hidden
// name ".NAME.haz-tmp-XXXX", verifying every blob against its hash while
// copying it, makes the staged data durable with one syncfs(2) per
// filesystem, and only then renames each root over its destination (with
// renameat2(RENAME_EXCHANGE) when a directory is involved, so the
// destination is never missing or half-removed). A crash leaves at most
// hidden ".haz-tmp" files next to the outputs.
//
// # Errors
//
// A missing, truncated, corrupt or foreign entry, a missing blob or a blob
// whose content does not match its name is an error wrapping ErrCorrupt:
// the bad file is removed and the caller treats the error as a miss. Other
// errors (a read-only or full cache directory) wrap the system error and
// name the path.
package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/fsutil"
)

// ErrCorrupt is wrapped by the errors of Lookup, Restore and OpenLog when
// an entry or a blob is missing, truncated, corrupt or of another format
// version. The bad entry or blob has been removed; the caller should report
// one warning and run the task as on a miss.
var ErrCorrupt = errors.New("cache: corrupt entry")

// layoutVersion is the content of DIR/VERSION.
const layoutVersion = "hazlua cache 2\n"

// Names inside the cache directory.
const (
	versionFile = "VERSION"
	lockFile    = "lock"
	tmpDir      = "tmp"
	blobsDir    = "blobs"
	entriesDir  = "entries"
	hitsFile    = "hits"
	tempPrefix  = ".haz-tmp-"
)

// dirMode is the mode of the directories the cache creates, in the cache
// and next to restored outputs.
const dirMode = 0o755

// Cache is a cache directory opened by Open. The zero Cache is not usable.
// A Cache holds no open files between calls and is safe for concurrent use
// by several goroutines; several processes may use one directory at once.
type Cache struct {
	dir string // absolute

	// DeferSync, set before the Cache is used, leaves out the syncfs(2)
	// that each Store and Restore makes before its renames; Sync makes
	// everything they wrote durable later, once for all of them. A
	// crash in between may then leave an entry whose blob, or a restored
	// output whose content, did not reach the disk: a Lookup or Restore
	// finds the first (the blob does not verify: a miss), and a caller
	// that checks its outputs by content, as hazlua's runner does, the
	// second; it must not record what it stored or restored as durable
	// before Sync returns. Atomicity against a killed process does not
	// depend on it (the renames give that).
	DeferSync bool

	mu      sync.Mutex
	pending map[uint64]string // with DeferSync: a directory on each filesystem written to since Sync
}

// defer notes that dirs (by filesystem) hold data a later Sync must make
// durable.
func (c *Cache) deferSync(dirs map[uint64]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[uint64]string{}
	}
	for dev, dir := range dirs {
		c.pending[dev] = dir
	}
}

// Sync makes durable what Stores and Restores wrote since the last Sync
// with DeferSync set: one syncfs(2) per filesystem they wrote to. Without
// DeferSync it does nothing: each Store and Restore synced already.
func (c *Cache) Sync() error {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	return syncDirs(pending)
}

// syncDirs makes each filesystem holding one of dirs durable.
func syncDirs(dirs map[uint64]string) error {
	for _, dir := range dirs {
		d, err := os.Open(dir)
		if err == nil {
			err = syncFS(d)
			d.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Open opens the cache in dir, creating dir and its layout (directories
// mode 0755) if needed. It fails, with an error naming dir, when dir cannot
// be created, is not writable (Open creates and removes a file in it, which
// catches a read-only mount even for root) or holds a cache of another
// layout version. When no other process is using the cache, Open removes
// the temporary files a crash may have left.
func Open(dir string) (*Cache, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", dir, err)
	}
	c := &Cache{dir: abs}
	for _, d := range []string{abs, c.path(tmpDir), c.path(blobsDir), c.path(entriesDir)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("cache: open %s: %w", dir, err)
		}
	}
	lk, err := fsutil.OpenLock(c.path(lockFile))
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", dir, err)
	}
	defer lk.Close()
	if err := lk.Lock(true); err != nil { // Prune sweeps DIR/tmp
		return nil, fmt.Errorf("cache: open %s: %w", dir, err)
	}
	probe, err := os.CreateTemp(c.path(tmpDir), tempPrefix+"probe-*")
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: not writable: %w", dir, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, fmt.Errorf("cache: open %s: not writable: %w", dir, err)
	}
	if err := c.checkVersion(); err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", dir, err)
	}
	if ok, err := lk.TryLock(); err == nil && ok {
		c.sweepTmp() // no Store is writing into DIR/tmp
	}
	return c, nil
}

// Dir returns the cache directory, made absolute by Open.
func (c *Cache) Dir() string { return c.dir }

// path joins names to the cache directory.
func (c *Cache) path(names ...string) string {
	return filepath.Join(append([]string{c.dir}, names...)...)
}

// blobPath is where the blob of content sum lives.
func (c *Cache) blobPath(sum fingerprint.Sum) string {
	return filepath.Join(c.dir, blobsDir, sum.String())
}

// entryPath is where the entry stored under key lives.
func (c *Cache) entryPath(key fingerprint.Sum) string {
	return filepath.Join(c.dir, entriesDir, key.String())
}

// checkVersion writes DIR/VERSION if it is missing, and fails if it
// names another layout.
func (c *Cache) checkVersion() error {
	p := c.path(versionFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		tmp, err := os.CreateTemp(c.path(tmpDir), tempPrefix+"version-*")
		if err != nil {
			return err
		}
		_, err = tmp.WriteString(layoutVersion)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), p)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
		return err
	}
	if err != nil {
		return err
	}
	if string(data) != layoutVersion {
		return fmt.Errorf("%s says %q, not %q: clear it or use another directory", p, data, layoutVersion)
	}
	return nil
}

// lock takes DIR/lock, shared or exclusive, blocking, and returns the
// function that releases it. Each call opens the file anew: flock belongs
// to the open file, so two calls in one process are two locks.
func (c *Cache) lock(exclusive bool) (unlock func(), err error) {
	unlock, err = fsutil.Lock(c.path(lockFile), !exclusive)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return unlock, nil
}

// sweepTmp removes everything in DIR/tmp; the caller holds an exclusive
// lock, so no Store is writing there.
func (c *Cache) sweepTmp() {
	names, _ := readDirNames(c.path(tmpDir))
	for _, n := range names {
		removeTree(c.path(tmpDir, n))
	}
}

// readDirNames lists the names in dir, unsorted.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
