package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// Restore writes e's outputs in place (relative to the current directory),
// replacing whatever is at each root (a file, symlink or directory of any
// kind), atomically per root.
//
// Each root is first staged next to its destination under a hidden name
// ".NAME.haz-tmp-XXXX" (missing parent directories are created 0755), every
// blob being verified against its hash while it is copied; files and
// directories get their recorded modes (directories after their contents
// are written). The staged data is made durable (one syncfs(2) per
// filesystem), then each staged root is renamed over its destination: a
// directory over anything, or anything over a directory, by exchanging the
// two with renameat2(RENAME_EXCHANGE) and removing the old tree afterwards,
// so the destination is never missing or half-removed.
//
// If a blob is missing or does not verify, nothing has been renamed: the
// staged files and the parent directories Restore created are removed, the
// bad blob is deleted and the error wraps ErrCorrupt. Other errors wrap the
// system error with the path; a failure while renaming the second of two
// roots leaves the first one restored.
//
// A successful Restore counts a hit for e (see Stats) and marks it used
// now, for Prune. Restore is safe to call concurrently with every other
// method; two Restores of the same outputs at once leave one of them
// complete.
func (c *Cache) Restore(e *Entry) error {
	if e == nil {
		return fmt.Errorf("%w: restore of a nil entry", ErrCorrupt)
	}
	if err := e.check(); err != nil {
		return fmt.Errorf("%w: restore: %v", ErrCorrupt, err)
	}
	unlock, err := c.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	r := &restorer{c: c, devs: make(map[uint64]string)}
	if err := r.stage(e); err != nil {
		r.abort()
		return err
	}
	if err := r.sync(); err != nil {
		r.abort()
		return err
	}
	if err := r.publish(); err != nil {
		r.abort()
		return err
	}
	r.finish()
	c.hit(e.Key)
	return nil
}

// restorer is the state of one Restore.
type restorer struct {
	c     *Cache
	roots []*stagedRoot
	made  []string          // directories created, in creation order
	devs  map[uint64]string // a directory on each filesystem written to
	mu    sync.Mutex
	bad   []fingerprint.Sum // blobs that did not verify
}

// stagedRoot is one root of a Restore.
type stagedRoot struct {
	dest  string // the root (an OS path)
	stage string // its staged copy until it is renamed over dest
	dir   bool   // the root is a directory
	old   string // once renamed: the replaced tree, to remove
}

// fileJob is one file to copy from its blob.
type fileJob struct {
	item Item
	dst  string
}

// dirJob is one staged directory whose mode is set last.
type dirJob struct {
	dst  string
	mode fs.FileMode
}

// stage writes every root of e next to its destination.
func (r *restorer) stage(e *Entry) error {
	tops, _ := splitRoots(e.Roots)
	groups := make(map[string][]Item, len(tops))
	for _, t := range tops {
		groups[t] = nil
	}
	for _, it := range e.Items {
		t := it.Path
		for _, ok := groups[t]; !ok; _, ok = groups[t] {
			if t = path.Dir(t); t == "." || t == "/" {
				return fmt.Errorf("%w: restore: item %q is outside every root", ErrCorrupt, it.Path)
			}
		}
		groups[t] = append(groups[t], it)
	}
	var files []fileJob
	var dirs []dirJob
	done := make(map[string]bool, len(tops))
	for _, t := range e.Roots {
		if _, ok := groups[t]; !ok || done[t] {
			continue
		}
		done[t] = true
		items := groups[t] // items[0] is t itself: it sorts first
		sr := &stagedRoot{dest: filepath.FromSlash(t), dir: items[0].Kind == Dir}
		if err := r.mkdirs(filepath.Dir(sr.dest)); err != nil {
			return fmt.Errorf("cache: restore %s: %w", t, err)
		}
		var err error
		root := items[0]
		switch root.Kind {
		case File:
			sr.stage, err = retryExist(sr.dest, func(n string) error {
				f, err := os.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err == nil {
					f.Close()
				}
				return err
			})
			files = append(files, fileJob{root, sr.stage})
		case Symlink:
			sr.stage, err = retryExist(sr.dest, func(n string) error { return os.Symlink(root.Target, n) })
		case Dir:
			sr.stage, err = retryExist(sr.dest, func(n string) error { return os.Mkdir(n, 0o700) })
			dirs = append(dirs, dirJob{sr.stage, root.Mode})
		}
		if err != nil {
			return fmt.Errorf("cache: restore %s: %w", t, err)
		}
		r.roots = append(r.roots, sr)
		for _, it := range items[1:] {
			dst := filepath.Join(sr.stage, filepath.FromSlash(it.Path[len(t)+1:]))
			switch it.Kind {
			case File:
				files = append(files, fileJob{it, dst})
			case Symlink:
				err = os.Symlink(it.Target, dst)
			case Dir:
				err = os.Mkdir(dst, 0o700)
				dirs = append(dirs, dirJob{dst, it.Mode})
			}
			if err != nil {
				return fmt.Errorf("cache: restore %s: %w", it.Path, err)
			}
		}
	}
	err := parallel(len(files), func(i int) error { return r.copyBlob(files[i]) })
	if err != nil {
		for _, b := range r.bad {
			os.Remove(r.c.blobPath(b))
		}
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- { // contents first
		if err := os.Chmod(dirs[i].dst, dirs[i].mode); err != nil {
			return fmt.Errorf("cache: restore: %w", err)
		}
	}
	return nil
}

// copyBlob writes job's file from its blob, verifying the content, and
// gives it its mode.
func (r *restorer) copyBlob(job fileJob) error {
	blob := r.c.blobPath(job.item.Hash)
	src, err := os.Open(blob)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: restore %s: blob %s is missing", ErrCorrupt, job.item.Path, blob)
	}
	if err != nil {
		return fmt.Errorf("cache: restore %s: %w", job.item.Path, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(job.dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cache: restore %s: %w", job.item.Path, err)
	}
	sum, err := copyHashed(dst, src)
	if err == nil && sum != job.item.Hash {
		r.mu.Lock()
		r.bad = append(r.bad, job.item.Hash)
		r.mu.Unlock()
		err = fmt.Errorf("%w: restore %s: blob %s: content does not match its hash", ErrCorrupt, job.item.Path, blob)
	}
	if err == nil {
		err = dst.Chmod(job.item.Mode)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("cache: restore %s: %w", job.item.Path, err)
	}
	return err
}

// mkdirs creates dir and its missing parents, remembering those it
// created, and notes dir's filesystem for sync.
func (r *restorer) mkdirs(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return &fs.PathError{Op: "mkdir", Path: d, Err: syscall.ENOTDIR}
			}
			if d == dir {
				r.devs[device(fi)] = dir
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], dirMode)
		if err == nil {
			r.made = append(r.made, missing[i])
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if len(missing) > 0 {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		r.devs[device(fi)] = dir
	}
	return nil
}

// sync makes the staged data durable: one syncfs per filesystem (or,
// with DeferSync, leaves that to Sync).
func (r *restorer) sync() error {
	if r.c.DeferSync {
		r.c.deferSync(r.devs)
		return nil
	}
	if err := syncDirs(r.devs); err != nil {
		return fmt.Errorf("cache: restore: %w", err)
	}
	return nil
}

// publish renames each staged root over its destination.
func (r *restorer) publish() error {
	for _, sr := range r.roots {
		old, err := replace(sr.stage, sr.dest, sr.dir)
		if err != nil {
			return fmt.Errorf("cache: restore %s: %w", filepath.ToSlash(sr.dest), err)
		}
		sr.stage, sr.old = "", old
	}
	return nil
}

// maxReplaceTries bounds the retries of replace when its destination
// changes under it.
const maxReplaceTries = 5

// replace renames stage (a directory when dir is true) over dest, which
// may be missing or anything. When either is a directory it exchanges
// them and returns where the old dest now is, for the caller to remove
// (also when the filesystem cannot exchange: dest is moved aside first).
func replace(stage, dest string, dir bool) (old string, err error) {
	for try := 1; ; try++ {
		var fi fs.FileInfo
		fi, err = os.Lstat(dest)
		switch {
		case errors.Is(err, fs.ErrNotExist), err == nil && !dir && !fi.IsDir():
			if err = os.Rename(stage, dest); err == nil {
				return "", nil
			}
		case err != nil:
			return "", err
		default:
			if err = exchange(stage, dest); err == nil {
				return stage, nil
			}
			if errors.Is(err, errors.ErrUnsupported) {
				aside := tempName(dest)
				if err = os.Rename(dest, aside); err == nil {
					if err = os.Rename(stage, dest); err == nil {
						return aside, nil
					}
					os.Rename(aside, dest)
				}
			}
		}
		if try == maxReplaceTries || !retryable(err) {
			return "", err
		}
	}
}

// retryable reports whether a rename error means the destination changed
// kind under replace.
func retryable(err error) bool {
	for _, e := range []error{syscall.ENOENT, syscall.EEXIST, syscall.ENOTEMPTY, syscall.EISDIR, syscall.ENOTDIR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// abort removes what a failed Restore staged and the directories it
// created.
func (r *restorer) abort() {
	for _, sr := range r.roots {
		if sr.stage != "" {
			removeTree(sr.stage)
		}
	}
	r.finish()
	for i := len(r.made) - 1; i >= 0; i-- {
		os.Remove(r.made[i]) // only if still empty
	}
}

// finish removes the trees the restored roots replaced. A tree that cannot
// be removed stays under its hidden name.
func (r *restorer) finish() {
	for _, sr := range r.roots {
		if sr.old != "" {
			removeTree(sr.old)
			sr.old = ""
		}
	}
}

// hit counts a restore of the entry under key and marks it used now (its
// mtime): one byte appended to DIR/hits, which counts them all, instead
// of a file per entry, as creating a file is the dearest thing a restore
// does. If Prune removed the entry since its Lookup, nothing is marked.
func (c *Cache) hit(key fingerprint.Sum) {
	now := time.Now()
	if err := os.Chtimes(c.entryPath(key), now, now); err != nil {
		return
	}
	f, err := os.OpenFile(c.path(hitsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	f.Write([]byte{1})
	f.Close()
}
