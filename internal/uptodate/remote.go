package uptodate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hazlua/hazlua/internal/cache"
	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/remotecache"
)

// The remote cache (docs/api.md, "The remote cache"): a lookup that
// misses locally asks the server, and a hit is brought into the local
// cache (blobs verified, entry last) and restored from there; a task
// stored locally is uploaded in the background. Every problem is a miss
// and one warning: a fault of the server (down, slow, 5xx) also stops
// every further request of the run.

// Limits of what a lookup downloads into memory.
const (
	maxActionSize = 64 << 20 // an action result: a path and digest per output file
	maxEntrySize  = 64 << 20 // an entry file
)

// EntryPath is the path, in the action results hazlua uploads, of the
// output file whose blob is the local cache's entry file: the whole
// record (directories, modes, symlinks, the log), of which the other
// output files are a listing for other tools.
const EntryPath = ".haz/entry"

// Defaults of the upload queue.
const (
	// DefaultFlushTimeout bounds how long Close waits for queued uploads.
	DefaultFlushTimeout = 60 * time.Second
	uploadQueue         = 4096 // tasks waiting to be uploaded; more are dropped (warned)
	uploadWorkers       = 4    // tasks uploaded at once
	fetchWorkers        = 8    // blobs of one task downloaded at once
)

// remote is a Store's use of the remote cache.
type remote struct {
	rc           *remotecache.Client
	flushTimeout time.Duration
	ctx          context.Context // cancelled when Close gives up on the uploads
	cancel       context.CancelFunc
	off          atomic.Bool // a fault: no more requests this run
	upOff        atomic.Bool // an upload fault: no more uploads
	damaged      sync.Map    // fingerprint.Sum → true: tasks whose download was damaged: upload every blob

	once    sync.Once
	queue   chan uploadJob
	workers sync.WaitGroup
}

// uploadJob is a task stored in the local cache, to upload.
type uploadJob struct {
	cc   *cache.Cache
	task string
	key  fingerprint.Sum
}

func newRemote(parent context.Context, rc *remotecache.Client, flush time.Duration) *remote {
	if flush <= 0 {
		flush = DefaultFlushTimeout
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	return &remote{rc: rc, flushTimeout: flush, ctx: ctx, cancel: cancel}
}

// remoteFault warns of err once per run and, for a fault of the server
// (not a corrupt download), stops using it.
func (s *Store) remoteFault(task string, err error) {
	switch {
	case s.remote.ctx.Err() != nil:
		// The run was stopped, or Close gave up on the uploads and said so.
	case errors.Is(err, remotecache.ErrIntegrity) || errors.Is(err, cache.ErrCorrupt):
		s.warn("remote corrupt", "task %s: %v: not used", task, err)
	default:
		var re *remotecache.Error
		if errors.As(err, &re) {
			s.remote.off.Store(true)
			s.warn("remote", "%v: going on without the remote cache", err)
		} else {
			s.warn("remote import", "task %s: bringing a remote cache entry into the local cache: %v", task, err)
		}
	}
}

// errBlobMissing is a blob the server no longer has (evicted): a miss.
var errBlobMissing = errors.New("blob missing")

// fetch looks key up in the remote cache and, on a hit, brings the entry
// and its blobs into cc, so that a Lookup of cc finds it. It reports
// whether it did.
func (s *Store) fetch(cc *cache.Cache, task string, key fingerprint.Sum) bool {
	r := s.remote
	if r == nil || r.off.Load() {
		return false
	}
	ac, err := r.rc.GetAction(r.ctx, key, maxActionSize)
	if err != nil || ac == nil {
		if err != nil {
			s.remoteMiss(key, task, err)
		}
		return false
	}
	ar, err := remotecache.DecodeAction(ac)
	if err != nil {
		s.remoteMiss(key, task, fmt.Errorf("%w: %v", cache.ErrCorrupt, err))
		return false
	}
	ef, ok := ar.File(EntryPath)
	if !ok {
		return false // another tool's action result
	}
	data, err := r.rc.GetBlobBytes(r.ctx, ef.Digest.Hash, maxEntrySize)
	if err != nil || data == nil {
		if err != nil {
			s.remoteMiss(key, task, err)
		}
		return false
	}
	e, err := cache.ParseEntry(key, data)
	if err != nil {
		s.remoteMiss(key, task, err)
		return false
	}
	var missing []fingerprint.Sum
	for _, b := range e.Blobs() {
		if !cc.HasBlob(b) {
			missing = append(missing, b)
		}
	}
	err = forEach(len(missing), fetchWorkers, func(i int) error {
		b := missing[i]
		return cc.ImportBlob(b, func(w io.Writer) error {
			ok, err := r.rc.GetBlob(r.ctx, b, w)
			if err == nil && !ok {
				err = errBlobMissing
			}
			return err
		})
	})
	if err == nil {
		err = cc.ImportEntry(key, data)
	}
	if err != nil {
		if !errors.Is(err, errBlobMissing) {
			s.remoteMiss(key, task, err)
		}
		return false
	}
	return true
}

// remoteMiss is remoteFault for the lookup of key; a damaged download
// also marks key, so that its upload, after the task runs, puts every
// blob again instead of trusting the server's HEAD.
func (s *Store) remoteMiss(key fingerprint.Sum, task string, err error) {
	if errors.Is(err, remotecache.ErrIntegrity) || errors.Is(err, cache.ErrCorrupt) {
		s.remote.damaged.Store(key, true)
	}
	s.remoteFault(task, err)
}

// forEach calls f(0), …, f(n-1) on up to workers goroutines and returns
// the first error; after an error no further calls start.
func forEach(n, workers int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || next == n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range min(n, workers) {
		wg.Go(func() {
			for i, ok := take(); ok; i, ok = take() {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// upload queues the task stored under key in cc for upload, unless the
// remote is read-only or off. It never blocks: past the queue's bound
// the task is not uploaded (warned once).
func (s *Store) upload(cc *cache.Cache, task string, key fingerprint.Sum) {
	r := s.remote
	if r == nil || r.rc.ReadOnly() || r.off.Load() || r.upOff.Load() {
		return
	}
	r.once.Do(func() {
		r.queue = make(chan uploadJob, uploadQueue)
		for range uploadWorkers {
			r.workers.Go(func() {
				for j := range r.queue {
					s.uploadOne(j)
				}
			})
		}
	})
	select {
	case r.queue <- uploadJob{cc: cc, task: task, key: key}:
	default:
		s.warn("remote queue", "remote cache: more than %d tasks waiting for upload: task %s and others not uploaded", uploadQueue, task)
	}
}

// uploadOne uploads one task: each blob the server lacks, the entry as
// a blob, then the action result, so that a reader never finds an action
// result whose blobs are not there yet.
func (s *Store) uploadOne(j uploadJob) {
	r := s.remote
	if r.ctx.Err() != nil || r.off.Load() || r.upOff.Load() {
		return
	}
	data, e, err := j.cc.EntryData(j.key)
	if err != nil || e == nil {
		return // pruned or replaced meanwhile: nothing to upload
	}
	ar := &remotecache.ActionResult{}
	sizes := map[fingerprint.Sum]int64{}
	_, damaged := r.damaged.Load(j.key)
	for _, b := range e.Blobs() {
		size, err := s.uploadBlob(j.cc, b, damaged)
		if err != nil {
			s.uploadFault(j.task, err)
			return
		}
		sizes[b] = size
	}
	for _, it := range e.Items {
		if it.Kind == cache.File {
			ar.OutputFiles = append(ar.OutputFiles, remotecache.OutputFile{Path: it.Path,
				Digest: remotecache.Digest{Hash: it.Hash, Size: sizes[it.Hash]}, Executable: it.Mode&0o111 != 0})
		}
	}
	if e.Log != nil {
		ar.Stdout = &remotecache.Digest{Hash: *e.Log, Size: sizes[*e.Log]}
	}
	entry := remotecache.Digest{Hash: fingerprint.HashBytes(data), Size: int64(len(data))}
	if err := r.rc.PutBlob(r.ctx, entry.Hash, bytes.NewReader(data), entry.Size); err != nil {
		s.uploadFault(j.task, err)
		return
	}
	ar.OutputFiles = append(ar.OutputFiles, remotecache.OutputFile{Path: EntryPath, Digest: entry})
	if err := r.rc.PutAction(r.ctx, j.key, ar.Encode()); err != nil {
		s.uploadFault(j.task, err)
	}
}

// uploadBlob uploads the local blob b unless the server has it (always,
// with force), and returns its size.
func (s *Store) uploadBlob(cc *cache.Cache, b fingerprint.Sum, force bool) (int64, error) {
	r := s.remote
	f, size, err := cc.OpenBlob(b)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if !force {
		has, err := r.rc.Has(r.ctx, b)
		if err != nil || has {
			return size, err
		}
	}
	return size, r.rc.PutBlob(r.ctx, b, f, size)
}

// uploadFault warns of an upload's error once and stops the uploads.
func (s *Store) uploadFault(task string, err error) {
	r := s.remote
	if r.ctx.Err() != nil {
		return // Close gave up and said so
	}
	var re *remotecache.Error
	if !errors.As(err, &re) {
		s.warn("remote upload", "task %s: not uploaded to the remote cache: %v", task, err)
		return
	}
	r.upOff.Store(true)
	s.warn("remote", "%v: going on without uploading to the remote cache", err)
}

// closeRemote waits for the queued uploads, at most the flush timeout,
// then cancels those still going (warned).
func (s *Store) closeRemote() {
	r := s.remote
	if r == nil {
		return
	}
	defer r.cancel()
	r.once.Do(func() {}) // no queue after Close
	if r.queue == nil {
		return
	}
	close(r.queue)
	done := make(chan struct{})
	go func() { r.workers.Wait(); close(done) }()
	timer := time.NewTimer(r.flushTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-r.ctx.Done(): // the run was stopped: abandon the uploads
		<-done
	case <-timer.C:
		left := len(r.queue)
		r.cancel()
		<-done // every request ends at once with its context
		s.warn("remote", "remote cache %s: uploads not finished after %v (about %d tasks left): abandoned", r.rc, r.flushTimeout, left+1)
	}
}
