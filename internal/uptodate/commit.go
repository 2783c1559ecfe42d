package uptodate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"

	"github.com/hazlua/hazlua/internal/cache"
	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/glob"
)

// MissingOutputError is Commit's error when a task succeeded without
// producing a declared output: the task fails.
type MissingOutputError struct {
	Pattern string // the declared output
}

func (e *MissingOutputError) Error() string {
	return fmt.Sprintf("declared output %s was not produced", e.Pattern)
}

// Commit records the success of the task sp, checked by c: it finds the
// outputs (a declared output that does not exist is a
// *MissingOutputError: the task fails), records the fingerprint and the
// outputs as the task's last success, and queues the outputs and log (the
// task's recorded output, nil if none) to be stored in the cache on a
// goroutine of the Store's, so that dependents need not wait for the
// copy. Commit owns log: it calls release (if not nil) once it is done
// with it. It returns the outputs as dependents see them. Recording and
// storing need inputs and not Always; problems with the cache are
// warnings.
func (s *Store) Commit(sp *Spec, c *Check, log io.Reader, release func()) ([]fingerprint.File, error) {
	stored := false
	defer func() {
		if !stored && release != nil {
			release()
		}
	}()
	roots, items, err := s.snapshot(sp.Outputs)
	if err != nil {
		return nil, err
	}
	files := itemFiles(items)
	if c == nil || c.rec == nil || sp.Always {
		return files, nil
	}
	if c.sum == (fingerprint.Sum{}) {
		c.sum = c.rec.Sum() // --no-cache skipped it
	}
	s.remember(sp.Name, c, files)
	if cc := s.openCache(true); cc != nil {
		stored = true
		q := s.storer()
		q.pending.Add(1)
		q.queue <- storeJob{cc: cc, task: sp.Name, key: c.sum, roots: roots, items: items, log: log, release: release}
	}
	return files, nil
}

// storeJob is a Store of the cache that Commit queued.
type storeJob struct {
	cc      *cache.Cache
	task    string
	key     fingerprint.Sum
	roots   []string
	items   []cache.Item
	log     io.Reader
	release func()
}

// storeQueue runs the queued stores one at a time, so that at most one
// copy competes with the tasks for the machine; Close waits for it.
type storeQueue struct {
	queue   chan storeJob
	done    chan struct{}
	pending sync.WaitGroup // jobs queued and not yet done
}

// storer returns the Store's queue, starting its goroutine at the first
// call.
func (s *Store) storer() *storeQueue {
	s.storeOnce.Do(func() {
		s.stores = &storeQueue{queue: make(chan storeJob, 64), done: make(chan struct{})}
		go func() {
			defer close(s.stores.done)
			for j := range s.stores.queue {
				s.store(j)
				s.stores.pending.Done()
			}
		}()
	})
	return s.stores
}

// store does one queued store.
func (s *Store) store(j storeJob) {
	if j.release != nil {
		defer j.release()
	}
	s.mu.Lock()
	off := s.cacheErr
	s.mu.Unlock()
	if off {
		return // a full or read-only cache: no more tries
	}
	if err := j.cc.Store(j.key, j.roots, j.items, j.log); err != nil {
		if diskFull(err) {
			s.disableCache(err)
		} else {
			s.warn("store", "task %s: not stored in the cache: %v", j.task, err)
		}
		return
	}
	s.upload(j.cc, j.task, j.key)
}

// waitStores waits until the stores queued so far are done.
func (s *Store) waitStores() {
	if q := s.storer(); q != nil {
		q.pending.Wait()
	}
}

// drainStores waits for the queued stores to end.
func (s *Store) drainStores() {
	s.storeOnce.Do(func() {}) // no queue after Close
	if s.stores != nil {
		close(s.stores.queue)
		<-s.stores.done
	}
}

// Restore restores the outputs c found in the cache and records the task
// as succeeded. It returns the task's recorded output, for the caller to
// replay (nil if none was recorded). On an error (a corrupt entry, a
// blob that does not verify: warned), nothing was changed and the task
// must run.
func (s *Store) Restore(sp *Spec, c *Check) (log io.ReadCloser, err error) {
	cc := s.openCache(false)
	if c.entry == nil || cc == nil {
		return nil, errors.New("uptodate: nothing to restore")
	}
	defer func() {
		if err != nil {
			s.warn("corrupt entry", "task %s: cache entry unusable (%v): running it", sp.Name, err)
		}
	}()
	log, err = cc.OpenLog(c.entry)
	if err != nil {
		return nil, err
	}
	if err := cc.Restore(c.entry); err != nil {
		if log != nil {
			log.Close()
		}
		return nil, err
	}
	s.remember(sp.Name, c, c.Outputs)
	return log, nil
}

// remember records the task's success: its fingerprint and outputs.
func (s *Store) remember(name string, c *Check, files []fingerprint.File) {
	c.rec.Outputs = files
	s.state.Set(name, fingerprint.Last{Fingerprint: c.sum, Outputs: fingerprint.OutputsSum(files)})
	s.records.put(c.rec)
}

// OutputsNow returns the outputs (patterns) of a task that does not run
// as its dependents see them: as they are now, or nil when one is missing
// (for a task left out by --changed-since).
func (s *Store) OutputsNow(patterns []string) []fingerprint.File {
	files, _ := s.outputsNow(patterns)
	return files
}

// outputsNow returns the task's outputs as they are now, or why they
// cannot be up to date ("output build/app missing").
func (s *Store) outputsNow(patterns []string) ([]fingerprint.File, string) {
	_, items, err := s.snapshot(patterns)
	var missing *MissingOutputError
	switch {
	case errors.As(err, &missing):
		return nil, "output " + missing.Pattern + " missing"
	case err != nil:
		return nil, err.Error()
	}
	return itemFiles(items), ""
}

// snapshot expands the output patterns (a path without wildcards is
// taken as it is) and lists what is there (cache.Snapshot), hashing
// files through the stat index. A pattern that matches nothing is a
// *MissingOutputError.
func (s *Store) snapshot(patterns []string) (roots []string, items []cache.Item, err error) {
	for _, p := range patterns {
		if lit, ok := glob.Literal(p); ok {
			roots = append(roots, lit) // Snapshot says if it is missing
			continue
		}
		m, err := glob.Expand([]string{p})
		if err != nil {
			return nil, nil, err
		}
		if len(m) == 0 {
			return nil, nil, &MissingOutputError{Pattern: p}
		}
		roots = append(roots, m...)
	}
	slices.Sort(roots)
	roots = slices.Compact(roots)
	items, err = cache.Snapshot(roots, s.ix.Lookup)
	var pe *fs.PathError
	if errors.Is(err, fs.ErrNotExist) && errors.As(err, &pe) && slices.Contains(roots, pe.Path) {
		return nil, nil, &MissingOutputError{Pattern: pe.Path}
	}
	return roots, items, err
}

// itemFiles turns output items into the (path, hash) pairs fingerprints
// hold: the hash covers the kind, the mode and the content (or the
// symlink's target), so a chmod is a change too.
func itemFiles(items []cache.Item) []fingerprint.File {
	files := make([]fingerprint.File, len(items))
	for i, it := range items {
		b := make([]byte, 0, 8+len(it.Hash)+len(it.Target))
		b = append(b, byte(it.Kind))
		b = binary.BigEndian.AppendUint32(b, uint32(it.Mode))
		b = append(b, it.Hash[:]...)
		b = append(b, it.Target...)
		files[i] = fingerprint.File{Path: it.Path, Hash: fingerprint.HashBytes(b)}
	}
	return files
}
