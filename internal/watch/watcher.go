package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDelay is the default debounce delay (--watch-delay).
const DefaultDelay = 100 * time.Millisecond

// LimitError is an inotify limit reached: too many watched directories
// (ENOSPC from inotify_add_watch) or too many inotify instances (EMFILE
// from inotify_init).
type LimitError struct {
	Sysctl string // fs.inotify.max_user_watches or fs.inotify.max_user_instances
	Limit  string // its value, if it could be read
	Dir    string // the directory that could not be watched, if any
	Err    error
}

func (e *LimitError) Error() string {
	what := "watch " + e.Dir
	if e.Dir == "" {
		what = "start watching"
	}
	limit := ""
	if e.Limit != "" {
		limit = " = " + e.Limit
	}
	return fmt.Sprintf("cannot %s: the inotify limit %s%s is reached (%v); raise it (sudo sysctl %s=524288) or watch fewer directories",
		what, e.Sysctl, limit, e.Err, e.Sysctl)
}

func (e *LimitError) Unwrap() error { return e.Err }

// limitError returns a *LimitError for err if it is an inotify limit,
// else err.
func limitError(err error, dir string) error {
	sysctl := ""
	switch {
	case errors.Is(err, syscall.ENOSPC):
		sysctl = "fs.inotify.max_user_watches"
	case errors.Is(err, syscall.EMFILE) && dir == "":
		sysctl = "fs.inotify.max_user_instances"
	default:
		return err
	}
	limit := readLimit("/proc/sys/" + strings.ReplaceAll(sysctl, ".", "/"))
	// A user namespace may have a lower limit of its own.
	userns := "/proc/sys/user/max_inotify_watches"
	if sysctl == "fs.inotify.max_user_instances" {
		userns = "/proc/sys/user/max_inotify_instances"
	}
	text := ""
	if limit >= 0 {
		text = fmt.Sprint(limit)
	}
	if n := readLimit(userns); n >= 0 && (limit < 0 || n < limit) {
		text = fmt.Sprintf("%d (%s, in this user namespace)", n, strings.TrimPrefix(strings.ReplaceAll(userns, "/", "."), ".proc.sys."))
	}
	return &LimitError{Sysctl: sysctl, Limit: text, Dir: dir, Err: err}
}

// readLimit returns the number in the file at path, or -1.
func readLimit(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Watcher watches directories (Watch) and sends the paths that changed
// in them, relative to the root, in batches: a batch is sent once no
// change has come for the delay. It watches directories, not files, so
// that a file replaced by a rename (as editors save) is seen, and it
// watches a directory created under a deep one as soon as it appears,
// reporting the files already in it.
type Watcher struct {
	root   string // absolute
	delay  time.Duration
	fsw    *fsnotify.Watcher
	out    chan []string
	errs   chan error
	closed chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	roots   []Dir           // what Watch was asked for, absolute
	watched map[string]bool // absolute directories added to fsw
	ignore  func(rel string) bool
}

// New starts a watcher of directories under root with the given debounce
// delay.
func New(root string, delay time.Duration) (*Watcher, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, limitError(err, "")
	}
	w := &Watcher{root: root, delay: delay, fsw: fsw, out: make(chan []string), errs: make(chan error, 1),
		closed: make(chan struct{}), done: make(chan struct{}), watched: map[string]bool{}}
	go w.loop()
	return w, nil
}

// Batches returns the channel of changed paths: slash-separated, relative
// to the root (absolute outside it), sorted and distinct. "." stands for
// everything (the kernel's event queue overflowed).
func (w *Watcher) Batches() <-chan []string { return w.out }

// Errors returns the channel of errors the watcher met after Watch
// returned: an inotify limit reached while watching a new directory.
func (w *Watcher) Errors() <-chan error { return w.errs }

// SetIgnore sets the function that says which changed paths (relative
// to the root) never count: they are dropped before the debounce, and
// such directories are not watched (from the next Watch on).
func (w *Watcher) SetIgnore(f func(rel string) bool) {
	w.mu.Lock()
	w.ignore = f
	w.mu.Unlock()
}

// Close stops watching and closes Batches.
func (w *Watcher) Close() error {
	select {
	case <-w.closed:
		return nil
	default:
	}
	close(w.closed)
	err := w.fsw.Close()
	<-w.done
	return err
}

// Watch makes dirs (relative to the root, or absolute) the watched
// directories, in place of those of an earlier call, and returns how
// many directories are watched. A directory that does not exist yet is
// watched from its nearest existing parent, and added when it appears.
func (w *Watcher) Watch(dirs []Dir) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roots = w.roots[:0]
	for _, d := range dirs {
		w.roots = append(w.roots, Dir{Path: w.abs(d.Path), Deep: d.Deep})
	}
	want := map[string]bool{}
	for _, r := range w.roots {
		p := r.Path
		for {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				break
			}
			if filepath.Dir(p) == p {
				break
			}
			p = filepath.Dir(p)
		}
		w.collect(p, want)
	}
	for d := range w.watched {
		if !want[d] {
			w.fsw.Remove(d)
			delete(w.watched, d)
		}
	}
	ds := make([]string, 0, len(want))
	for d := range want {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	for _, d := range ds {
		if w.watched[d] {
			continue
		}
		if err := w.fsw.Add(d); err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				continue // gone already, or unreadable: skipped, as globs skip it
			}
			return len(w.watched), limitError(err, w.rel(d))
		}
		w.watched[d] = true
	}
	return len(w.watched), nil
}

// collect adds to want the directory dir, if it is to be watched, and,
// if deep, those under it. w.mu is held.
func (w *Watcher) collect(dir string, want map[string]bool) {
	ok, deep, above := w.wanted(dir)
	if !ok {
		return
	}
	want[dir] = true
	if !deep && !above {
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() && (above || !strings.HasPrefix(e.Name(), ".")) {
			w.collect(filepath.Join(dir, e.Name()), want)
		}
	}
}

// wanted reports whether the absolute directory dir is to be watched:
// it is a root, under a deep root (deep), or a parent of a root (above:
// the root's creation is then seen). w.mu is held.
func (w *Watcher) wanted(dir string) (ok, deep, above bool) {
	if rel := w.rel(dir); rel != "." {
		first, _, _ := strings.Cut(rel, "/")
		if slices.Contains(ignoredDirs, first) || w.ignore != nil && w.ignore(rel) {
			return false, false, false // nothing in it counts (an output directory)
		}
	}
	for _, r := range w.roots {
		switch {
		case dir == r.Path:
			ok, deep = true, deep || r.Deep
		case r.Deep && (strings.HasPrefix(dir, r.Path+"/") || r.Path == "/"):
			ok, deep = true, true
		case strings.HasPrefix(r.Path, dir+"/") || dir == "/":
			ok, above = true, true
		}
	}
	return ok, deep, above
}

func (w *Watcher) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(w.root, filepath.FromSlash(p))
}

// rel returns p relative to the root, slash-separated, or p if it is
// outside.
func (w *Watcher) rel(p string) string {
	if p == w.root {
		return "."
	}
	if strings.HasPrefix(p, w.root+"/") {
		return filepath.ToSlash(p[len(w.root)+1:])
	}
	return p
}

// maxWait bounds how long changes that never stop (a log an input glob
// matches) delay a batch: ten times the delay, at least a second.
func maxWait(delay time.Duration) time.Duration { return max(10*delay, time.Second) }

// loop reads fsnotify's events, watches new directories, and sends the
// debounced batches.
func (w *Watcher) loop() {
	defer close(w.done)
	defer close(w.out)
	changed := map[string]bool{}
	var timer *time.Timer
	var fire <-chan time.Time
	var send chan []string // w.out when a batch is ready
	var batch []string
	var first time.Time // the first change of the batch being gathered
	note := func(rel string) {
		w.mu.Lock()
		ignore := w.ignore
		w.mu.Unlock()
		if rel != "." && ignore != nil && ignore(rel) {
			return
		}
		changed[rel] = true
		switch {
		case timer == nil:
			timer = time.NewTimer(w.delay)
		case fire == nil:
			timer.Reset(w.delay)
		case time.Since(first) < maxWait(w.delay):
			timer.Reset(w.delay)
		default:
			return // changes keep coming: the batch goes out at the timer set before
		}
		if fire == nil {
			first = time.Now()
		}
		fire = timer.C
	}
	for {
		select {
		case <-w.closed:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue // touch, chmod: the contents are the same
			}
			abs := filepath.Clean(ev.Name)
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				w.gone(abs)
			}
			if ev.Has(fsnotify.Create) {
				if files, dir := w.added(abs); dir {
					// A new directory counts by what it holds, not
					// itself: the build makes its output directories.
					for _, p := range files {
						note(p)
					}
					continue
				}
			}
			note(w.rel(abs))
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				note(".") // events were lost: everything may have changed
				continue
			}
			w.report(err)
		case <-fire:
			fire = nil
			for p := range changed {
				batch = append(batch, p)
			}
			clear(changed)
			slices.Sort(batch)
			batch = slices.Compact(batch)
			send = w.out
		case send <- batch:
			send, batch = nil, nil
		}
	}
}

// added watches the directory created at abs if it is to be watched (and
// those under it, if deep), and returns the files found in them (relative
// to the root): they may have been written before the watch began. dir
// says whether abs is a directory.
func (w *Watcher) added(abs string) (files []string, dir bool) {
	st, err := os.Lstat(abs)
	if err != nil || !st.IsDir() {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addTree(abs, &files)
	return files, true
}

// addTree watches dir, if it is to be watched and is not yet, then reads
// it: each file in it is added to files, and each directory in it is
// added in turn if dir is deep or above a root. The watch comes before the
// read, so that a name made in dir meanwhile is either read or reported
// by an event. w.mu is held.
func (w *Watcher) addTree(dir string, files *[]string) {
	ok, deep, above := w.wanted(dir)
	if !ok || w.watched[dir] {
		return
	}
	if err := w.fsw.Add(dir); err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			w.report(limitError(err, w.rel(dir)))
		}
		return
	}
	w.watched[dir] = true
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case !e.IsDir():
			*files = append(*files, w.rel(p))
		case above || deep && !strings.HasPrefix(e.Name(), "."):
			w.addTree(p, files)
		}
	}
}

// gone forgets the watches of the directory abs, which was removed or
// renamed, and of those under it, so that a directory created there later
// is watched again.
func (w *Watcher) gone(abs string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.watched {
		if d == abs || strings.HasPrefix(d, abs+"/") {
			w.fsw.Remove(d) // may be gone already
			delete(w.watched, d)
		}
	}
}

// report sends err on Errors unless one is waiting already.
func (w *Watcher) report(err error) {
	select {
	case w.errs <- err:
	default:
	}
}
