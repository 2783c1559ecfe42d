package fingerprint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultGranularity is the timestamp granularity an Index assumes: a
// file whose mtime is within it of the moment it was hashed is "racily
// clean" and rehashed on every lookup. Two seconds covers the coarsest
// common filesystems (FAT, some NFS servers); on ext4, xfs, btrfs and
// tmpfs a few milliseconds would do.
const DefaultGranularity = 2 * time.Second

// indexMagic starts the index file; its last byte is the format version.
const indexMagic = "hazlua stat index\x00\x01"

// IndexFile is the name of the index file in the directory LoadIndex is
// given.
const IndexFile = "stat"

// ErrCorruptIndex is wrapped by LoadIndex's error when the index file is
// truncated, corrupt or of another format: the index starts empty.
var ErrCorruptIndex = errors.New("fingerprint: stat index unreadable, starting empty")

// fileStat is what the index compares to decide a file is unchanged.
type fileStat struct {
	Size, Mtime, Ctime int64 // mtime and ctime in ns since the epoch
	Ino                uint64
	Mode               uint32
}

// entry is one file of the index: its stat, when it was taken (ns, just
// before the file was read) and the content hash read then.
type entry struct {
	fileStat
	Checked int64
	Hash    Sum
}

// Index maps a file's stat to its content hash, so an unchanged file is
// not read again. The rule: a cached hash is used only when the file's
// size, mtime, ctime, inode and mode are those recorded AND the file is
// not racily clean, i.e. its mtime is older than the moment of hashing
// minus Granularity (git's rule, taken per entry instead of from the
// index file's write time, which is never earlier and so never stricter).
// Otherwise the file is read, hashed and the entry replaced.
//
// Paths are keys as given: the caller passes one spelling per file
// (clean, relative to the project root). An Index is safe for concurrent
// use; Lookup hashes outside its lock.
type Index struct {
	// Granularity is the timestamp granularity; LoadIndex sets it to
	// DefaultGranularity.
	Granularity time.Duration

	dir    string
	t      *table[entry]
	hits   atomic.Int64
	hashed atomic.Int64
}

// Stats counts what Lookups did.
type Stats struct {
	Hits   int // answered from the stat alone
	Hashed int // files read and hashed
}

// indexFormat is the index file's format.
var indexFormat = tableFormat[entry]{
	magic: indexMagic,
	what:  "a stat index",
	size:  6*8 + len(Sum{}),
	enc: func(e *encoder, x entry) {
		e.u64(uint64(x.Size))
		e.u64(uint64(x.Mtime))
		e.u64(uint64(x.Ctime))
		e.u64(x.Ino)
		e.u64(uint64(x.Mode))
		e.u64(uint64(x.Checked))
		e.sum(x.Hash)
	},
	dec: func(d *decoder) (x entry) {
		x.Size = int64(d.u64())
		x.Mtime = int64(d.u64())
		x.Ctime = int64(d.u64())
		x.Ino = d.u64()
		x.Mode = uint32(d.u64())
		x.Checked = int64(d.u64())
		x.Hash = d.sum()
		return x
	},
}

// LoadIndex reads the index kept in dir (its file dir/stat). A missing
// file gives an empty index and no error; an unreadable, truncated,
// corrupt or foreign-version file gives an empty, usable index and an
// error wrapping ErrCorruptIndex, for the caller to print as one warning.
func LoadIndex(dir string) (*Index, error) {
	t, err := loadTable(filepath.Join(dir, IndexFile), indexFormat)
	ix := &Index{Granularity: DefaultGranularity, dir: dir, t: t}
	if err != nil {
		return ix, fmt.Errorf("%w: %v", ErrCorruptIndex, err)
	}
	return ix, nil
}

// Lookup returns the content hash of the file at path, from the index
// when its stat says it is unchanged and it is not racily clean, else by
// reading it (and recording the new entry). A file that cannot be read is
// dropped from the index and its error returned; a directory is an
// *fs.PathError wrapping syscall.EISDIR, found by the stat alone.
func (ix *Index) Lookup(path string) (Sum, error) {
	st, err := statPath(path)
	if err == nil && st.isDir() {
		return Sum{}, &os.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	if e, ok := ix.t.get(path); err == nil && ok && e.fileStat == st && st.Mtime < e.Checked-int64(ix.Granularity) {
		ix.hits.Add(1)
		return e.Hash, nil
	}
	e, err := hashEntry(path)
	if err != nil {
		ix.t.drop(path)
		return Sum{}, err
	}
	ix.hashed.Add(1)
	ix.t.set(path, e)
	return e.Hash, nil
}

// hashEntry reads the file at path and returns its entry: the stat of
// the open file, taken after the clock and before reading, so a write
// during the read shows in the next stat.
func hashEntry(path string) (entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	checked := time.Now().UnixNano()
	st, err := statFile(f)
	if err != nil {
		return entry{}, err
	}
	sum, err := hashReader(f)
	if err != nil {
		return entry{}, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return entry{fileStat: st, Checked: checked, Hash: sum}, nil
}

// Dirty reports whether Lookups changed the index since it was loaded or
// last saved.
func (ix *Index) Dirty() bool { return ix.t.dirty() }

// Stats returns the counts of Lookups so far.
func (ix *Index) Stats() Stats {
	return Stats{Hits: int(ix.hits.Load()), Hashed: int(ix.hashed.Load())}
}

// Save writes the index to its directory (created if need be) when a
// Lookup changed it, atomically: a concurrent reader or a second process
// saving at once sees a whole file, its own or the other's. It merges:
// the file as it is now on disk (another process may have saved since
// LoadIndex) with the entries this Index set or dropped over it. Callers
// that must not lose another process's entries hold a lock across Save
// (fsutil.Lock); without one, the last saver's merge wins, which costs a
// rehash, never a wrong hash.
func (ix *Index) Save() error { return ix.t.save() }
