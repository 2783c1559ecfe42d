package watch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failAfter bounds every wait: a failure bound, never a way to let
// something happen.
const failAfter = 10 * time.Second

func newWatcher(t *testing.T, dirs ...Dir) (*Watcher, string) {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if d.Path != "." && !strings.HasPrefix(d.Path, "missing") {
			mkdir(t, filepath.Join(root, d.Path))
		}
	}
	w, err := New(root, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.Watch(dirs); err != nil {
		t.Fatal(err)
	}
	return w, root
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, data string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// collect reads batches until every path of want has come, checking
// that each batch is sorted and distinct, and returns every path seen.
func collect(t *testing.T, w *Watcher, want ...string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(failAfter)
	for {
		missing := slices.DeleteFunc(slices.Clone(want), func(p string) bool { return slices.Contains(seen, p) })
		if len(missing) == 0 {
			return seen
		}
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatalf("Batches closed; seen %v, missing %v", seen, missing)
			}
			if !slices.IsSorted(b) || len(slices.Compact(slices.Clone(b))) != len(b) {
				t.Errorf("batch %v is not sorted and distinct", b)
			}
			seen = append(seen, b...)
		case err := <-w.Errors():
			t.Fatalf("watcher error: %v", err)
		case <-timeout:
			t.Fatalf("after %s: seen %v, missing %v", failAfter, seen, missing)
		}
	}
}

func TestWatcherWritesAndRenames(t *testing.T) {
	w, root := newWatcher(t, Dir{Path: "src"})
	write(t, filepath.Join(root, "src/a.c"), "1")
	collect(t, w, "src/a.c")
	// An editor's save: a temporary file renamed over the target.
	write(t, filepath.Join(root, "src/.a.c.swp"), "2")
	if err := os.Rename(filepath.Join(root, "src/.a.c.swp"), filepath.Join(root, "src/a.c")); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "src/a.c")
	if err := os.Remove(filepath.Join(root, "src/a.c")); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "src/a.c")
}

func TestWatcherIgnore(t *testing.T) {
	w, root := newWatcher(t, Dir{Path: ".", Deep: true})
	w.SetIgnore(func(p string) bool { return strings.HasPrefix(p, "out/") })
	write(t, filepath.Join(root, "out/x.o"), "o")
	write(t, filepath.Join(root, "src/x.c"), "c")
	seen := collect(t, w, "src/x.c")
	if slices.Contains(seen, "out/x.o") {
		t.Errorf("an ignored path came: %v", seen)
	}
}

func TestWatcherNewDirectories(t *testing.T) {
	w, root := newWatcher(t, Dir{Path: "src", Deep: true}, Dir{Path: "missing/later"})
	// Made at once, before the watcher can watch the new directories:
	// their files are found when it does.
	write(t, filepath.Join(root, "src/a/b/c/x.c"), "x")
	collect(t, w, "src/a/b/c/x.c")
	write(t, filepath.Join(root, "src/a/b/c/y.c"), "y")
	collect(t, w, "src/a/b/c/y.c")
	// A directory a root names, made after the start.
	write(t, filepath.Join(root, "missing/later/z.c"), "z")
	collect(t, w, "missing/later/z.c")
	// Removed and made again: watched again.
	if err := os.RemoveAll(filepath.Join(root, "src/a")); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "src/a")
	write(t, filepath.Join(root, "src/a/again.c"), "a")
	collect(t, w, "src/a/again.c")
	write(t, filepath.Join(root, "src/a/again2.c"), "a")
	collect(t, w, "src/a/again2.c")
}

func TestWatcherSkipsHiddenAndState(t *testing.T) {
	w, root := newWatcher(t, Dir{Path: ".", Deep: true})
	mkdir(t, filepath.Join(root, ".git/objects"))
	mkdir(t, filepath.Join(root, ".haz"))
	mkdir(t, filepath.Join(root, "src/.cache"))
	mkdir(t, filepath.Join(root, "build/obj"))
	w.SetIgnore(func(p string) bool { return p == "build" || strings.HasPrefix(p, "build/") })
	n, err := w.Watch([]Dir{{Path: ".", Deep: true}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // the root and src
		t.Errorf("watching %d directories, want 2 (., src: not .git, .haz, src/.cache, nor the ignored build)", n)
	}
}

func TestLimitError(t *testing.T) {
	err := limitError(&os.PathError{Op: "inotify_add_watch", Path: "/x", Err: syscall.ENOSPC}, "src/x")
	var le *LimitError
	if !errors.As(err, &le) || le.Sysctl != "fs.inotify.max_user_watches" || !strings.Contains(err.Error(), "cannot watch src/x: the inotify limit fs.inotify.max_user_watches") {
		t.Errorf("limitError(ENOSPC) = %v", err)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%v does not wrap ENOSPC", err)
	}
	if err := limitError(syscall.EMFILE, ""); !strings.Contains(err.Error(), "fs.inotify.max_user_instances") {
		t.Errorf("limitError(EMFILE) = %v", err)
	}
	if err := limitError(syscall.EACCES, "d"); err != syscall.EACCES {
		t.Errorf("limitError(EACCES) = %v, want it unchanged", err)
	}
}
