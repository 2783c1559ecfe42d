package fingerprint

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hazlua/hazlua/internal/fsutil"
)

// DefaultGranularity is the timestamp granularity an Index assumes: a
// file whose mtime is within it of the moment it was hashed is "racily
// clean" and rehashed on every lookup. Two seconds covers the coarsest
// common filesystems (FAT, some NFS servers); on ext4, xfs, btrfs and
// tmpfs a few milliseconds would do.
const DefaultGranularity = 2 * time.Second

// indexMagic starts the index file; its last byte is the format version.
const indexMagic = "hazlua stat index\x00\x01"

// indexFile is the name of the index file in the caller's directory.
const indexFile = "stat"

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

	dir     string
	mu      sync.Mutex
	entries map[string]entry
	dirty   bool
	stats   Stats
}

// Stats counts what Lookups did.
type Stats struct {
	Hits   int // answered from the stat alone
	Hashed int // files read and hashed
}

// LoadIndex reads the index kept in dir (its file dir/stat). A missing
// file gives an empty index and no error; an unreadable, truncated,
// corrupt or foreign-version file gives an empty, usable index and an
// error wrapping ErrCorruptIndex, for the caller to print as one warning.
func LoadIndex(dir string) (*Index, error) {
	ix := &Index{Granularity: DefaultGranularity, dir: dir, entries: map[string]entry{}}
	data, err := os.ReadFile(filepath.Join(dir, indexFile))
	if errors.Is(err, os.ErrNotExist) {
		return ix, nil
	}
	if err == nil {
		var m map[string]entry
		if m, err = decodeIndex(data); err == nil {
			ix.entries = m
			return ix, nil
		}
	}
	return ix, fmt.Errorf("%w: %s: %v", ErrCorruptIndex, filepath.Join(dir, indexFile), err)
}

// Lookup returns the content hash of the file at path, from the index
// when its stat says it is unchanged and it is not racily clean, else by
// reading it (and recording the new entry). A file that cannot be read is
// dropped from the index and its error returned.
func (ix *Index) Lookup(path string) (Sum, error) {
	st, err := statPath(path)
	ix.mu.Lock()
	e, ok := ix.entries[path]
	if err == nil && ok && e.fileStat == st && st.Mtime < e.Checked-int64(ix.Granularity) {
		ix.stats.Hits++
		ix.mu.Unlock()
		return e.Hash, nil
	}
	ix.mu.Unlock()
	e, err = hashEntry(path)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err != nil {
		if _, ok := ix.entries[path]; ok {
			delete(ix.entries, path)
			ix.dirty = true
		}
		return Sum{}, err
	}
	ix.stats.Hashed++
	ix.entries[path] = e
	ix.dirty = true
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

// Stats returns the counts of Lookups so far.
func (ix *Index) Stats() Stats {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.stats
}

// Save writes the index to its directory (created if need be) when a
// Lookup changed it, atomically: a concurrent reader or a second process
// saving at once sees a whole file, its own or the other's.
func (ix *Index) Save() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.dirty {
		return nil
	}
	if err := os.MkdirAll(ix.dir, 0o755); err != nil {
		return err
	}
	err := fsutil.WriteFileAtomic(filepath.Join(ix.dir, indexFile), func(w io.Writer) error {
		_, err := w.Write(encodeIndex(ix.entries))
		return err
	})
	if err == nil {
		ix.dirty = false
	}
	return err
}

// encodeIndex serialises entries: indexMagic, a count, each entry as a
// length-prefixed path and fixed-size fields, then the SHA-256 of all
// that, so truncation and corruption are detected.
func encodeIndex(entries map[string]entry) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	w.WriteString(indexMagic)
	u := func(x uint64) { w.Write(binary.BigEndian.AppendUint64(nil, x)) }
	u(uint64(len(entries)))
	for p, e := range entries {
		u(uint64(len(p)))
		w.WriteString(p)
		u(uint64(e.Size))
		u(uint64(e.Mtime))
		u(uint64(e.Ctime))
		u(e.Ino)
		u(uint64(e.Mode))
		u(uint64(e.Checked))
		w.Write(e.Hash[:])
	}
	w.Flush()
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// decodeIndex is the inverse of encodeIndex; it fails, never panics, on
// any malformed input.
func decodeIndex(data []byte) (map[string]entry, error) {
	if len(data) < len(indexMagic)+8+sha256.Size || string(data[:len(indexMagic)]) != indexMagic {
		return nil, errors.New("not a stat index of this version")
	}
	body, tail := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], tail) {
		return nil, errors.New("checksum mismatch")
	}
	r := body[len(indexMagic):]
	short := errors.New("truncated")
	u := func() (uint64, bool) {
		if len(r) < 8 {
			return 0, false
		}
		x := binary.BigEndian.Uint64(r)
		r = r[8:]
		return x, true
	}
	n, ok := u()
	if !ok || n > uint64(len(r)) {
		return nil, short
	}
	m := make(map[string]entry, n)
	for range n {
		l, ok := u()
		if !ok || l > uint64(len(r)) {
			return nil, short
		}
		p := string(r[:l])
		r = r[l:]
		var f [6]uint64
		for i := range f {
			if f[i], ok = u(); !ok {
				return nil, short
			}
		}
		if len(r) < sha256.Size {
			return nil, short
		}
		e := entry{fileStat: fileStat{Size: int64(f[0]), Mtime: int64(f[1]), Ctime: int64(f[2]), Ino: f[3], Mode: uint32(f[4])}, Checked: int64(f[5])}
		copy(e.Hash[:], r)
		r = r[sha256.Size:]
		m[p] = e
	}
	if len(r) != 0 {
		return nil, errors.New("trailing bytes")
	}
	return m, nil
}
