package cache

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// Stats describes what a cache holds. The zero Stats is an empty cache.
type Stats struct {
	Entries int   // entries stored
	Blobs   int   // blobs stored
	Bytes   int64 // the sizes of the blobs and entry files
	Hits    int64 // restores, summed over entries
}

// PruneResult says what Prune removed. The zero PruneResult is nothing.
type PruneResult struct {
	Entries, Blobs int   // removed
	Bytes          int64 // freed (sizes, as in Stats)
}

// Stats counts the cache's entries, blobs, bytes and hits. It is safe to
// call concurrently with every other method; it waits for a Prune or
// Clear in progress.
func (c *Cache) Stats() (Stats, error) {
	unlock, err := c.lock(false)
	if err != nil {
		return Stats{}, err
	}
	defer unlock()
	var s Stats
	entries, err := listFiles(c.path(entriesDir))
	if err != nil {
		return Stats{}, err
	}
	for _, f := range entries {
		if isSum(f.name) {
			s.Entries++
			s.Bytes += f.size
		}
	}
	if fi, err := os.Stat(c.path(hitsFile)); err == nil {
		s.Hits = fi.Size()
	}
	blobs, err := listFiles(c.path(blobsDir))
	if err != nil {
		return Stats{}, err
	}
	for _, f := range blobs {
		s.Blobs++
		s.Bytes += f.size
	}
	return s, nil
}

// Prune removes the entries not used (stored or restored) for longer than
// maxAge before now (maxAge 0: no age limit), then the least recently used
// entries until the blobs and entries take at most maxBytes (0: no size
// limit), then every blob no remaining entry refers to. Corrupt entries
// and entries whose blobs are missing are removed too, and so are the
// temporary files crashes left. now is the current time (tests pass their
// own). Prune takes the cache's lock exclusively: it waits for the
// Stores, Restores and Lookups in progress, in every process, and they
// wait for it (an OpenLog needs no lock: a file it opened stays
// readable).
func (c *Cache) Prune(maxBytes int64, maxAge time.Duration, now time.Time) (PruneResult, error) {
	var res PruneResult
	unlock, err := c.lock(true)
	if err != nil {
		return res, err
	}
	defer unlock()
	c.sweepTmp()
	blobFiles, err := listFiles(c.path(blobsDir))
	if err != nil {
		return res, err
	}
	blobs := make(map[fingerprint.Sum]*file, len(blobFiles))
	for i, f := range blobFiles {
		var sum fingerprint.Sum
		if isSum(f.name) && sum.UnmarshalText([]byte(f.name)) == nil {
			blobs[sum] = &blobFiles[i]
		} else {
			res.Blobs++ // not a blob: junk
			res.Bytes += f.size
			removeTree(f.path)
		}
	}
	entries, err := c.loadEntries(blobs, &res)
	if err != nil {
		return res, err
	}
	refs := make(map[fingerprint.Sum]int)
	for _, e := range entries {
		for _, b := range e.blobs {
			refs[b]++
		}
	}
	var total int64
	for _, e := range entries {
		total += e.size
	}
	for sum, b := range blobs {
		if refs[sum] > 0 {
			total += b.size
		}
	}
	slices.SortFunc(entries, func(a, b *entryInfo) int {
		return cmp.Or(a.lastUse.Compare(b.lastUse), strings.Compare(a.path, b.path))
	})
	for _, e := range entries {
		old := maxAge > 0 && now.Sub(e.lastUse) > maxAge
		big := maxBytes > 0 && total > maxBytes
		if !old && !big {
			continue
		}
		if err := removeFiles(e.path); err != nil {
			return res, fmt.Errorf("cache: prune: %w", err)
		}
		res.Entries++
		res.Bytes += e.size
		total -= e.size
		for _, b := range e.blobs {
			if refs[b]--; refs[b] == 0 {
				total -= blobs[b].size
			}
		}
	}
	for sum, b := range blobs {
		if refs[sum] > 0 {
			continue
		}
		if err := os.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("cache: prune: %w", err)
		}
		res.Blobs++
		res.Bytes += b.size
	}
	return res, nil
}

// entryInfo is what Prune knows of an entry.
type entryInfo struct {
	path    string
	size    int64
	lastUse time.Time
	blobs   []fingerprint.Sum
}

// loadEntries reads every entry, removing (and counting in res) those
// that are corrupt or refer to a blob not in blobs, and files that are no
// entry.
func (c *Cache) loadEntries(blobs map[fingerprint.Sum]*file, res *PruneResult) ([]*entryInfo, error) {
	files, err := listFiles(c.path(entriesDir))
	if err != nil {
		return nil, err
	}
	byPath := make(map[string]*entryInfo)
	for _, f := range files {
		if isSum(f.name) {
			byPath[f.path] = &entryInfo{path: f.path, size: f.size, lastUse: f.mtime}
			continue
		}
		if err := removeFiles(f.path); err != nil { // not an entry: junk
			return nil, fmt.Errorf("cache: prune: %w", err)
		}
		res.Bytes += f.size
	}
	var out []*entryInfo
	for _, e := range byPath {
		ok := false
		if data, err := os.ReadFile(e.path); err == nil {
			if ent, err := decodeEntry(data); err == nil && ent.Key.String() == filepath.Base(e.path) {
				e.blobs = ent.blobs()
				ok = !slices.ContainsFunc(e.blobs, func(b fingerprint.Sum) bool { return blobs[b] == nil })
			}
		}
		if ok {
			out = append(out, e)
			continue
		}
		if err := removeFiles(e.path); err != nil {
			return nil, fmt.Errorf("cache: prune: %w", err)
		}
		res.Entries++
		res.Bytes += e.size
	}
	return out, nil
}

// Clear removes every entry and blob, and any temporary file; the cache
// directory stays, empty and usable. Like Prune it takes the cache's lock
// exclusively.
func (c *Cache) Clear() error {
	unlock, err := c.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	for _, sub := range []string{entriesDir, blobsDir, tmpDir} { // entries first
		names, err := readDirNames(c.path(sub))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cache: clear: %w", err)
		}
		for _, n := range names {
			if err := removeTree(c.path(sub, n)); err != nil {
				return fmt.Errorf("cache: clear: %w", err)
			}
		}
		if err := os.MkdirAll(c.path(sub), dirMode); err != nil {
			return fmt.Errorf("cache: clear: %w", err)
		}
	}
	if err := removeFiles(c.path(hitsFile)); err != nil {
		return fmt.Errorf("cache: clear: %w", err)
	}
	return nil
}

// file is a file found by listFiles.
type file struct {
	path, name string
	size       int64
	mtime      time.Time
}

// listFiles lists the files in dir (the blobs or the entries of the
// cache). Files that vanish while it lists are left out.
func listFiles(dir string) ([]file, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var out []file
	for _, d := range ents {
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		out = append(out, file{path: filepath.Join(dir, d.Name()), name: d.Name(), size: fi.Size(), mtime: fi.ModTime()})
	}
	return out, nil
}

// removeFiles removes the files at paths; missing ones are no error.
func removeFiles(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// isSum reports whether s is 64 lower-case hex digits, a Sum's String.
func isSum(s string) bool {
	if len(s) != 2*len(fingerprint.Sum{}) || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
