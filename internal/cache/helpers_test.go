package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
	"github.com/hazlua/hazlua/internal/testutil"
)

// TestMain runs the helper processes of TestConcurrentProcesses and
// TestKill when asked to (helperEnv or killEnv set), else the tests.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(helperEnv) != "":
		os.Exit(helperMain())
	case os.Getenv(killEnv) != "":
		os.Exit(killMain())
	}
	os.Exit(m.Run())
}

// key returns a distinct test key per name.
func key(name string) fingerprint.Sum { return fingerprint.HashBytes([]byte("key " + name)) }

// openCache opens a cache in a fresh directory.
func openCache(t testing.TB) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inTempDir makes a fresh directory the current one for the rest of t.
func inTempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Chdir(d)
	return d
}

// writeFile writes a fixture file with exactly mode, making parents.
func writeFile(t testing.TB, p, data string, mode fs.FileMode) {
	t.Helper()
	testutil.WriteFile(t, p, data, mode)
}

// mkdir makes a fixture directory with exactly mode, making parents.
func mkdir(t testing.TB, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// symlink makes a fixture symlink, making parents.
func symlink(t testing.TB, target, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.Symlink(t, target, p)
}

// fixture makes a tree under out exercising every kind: files of several
// modes (setuid too), nested and empty directories, symlinks relative,
// absolute, dangling and to a directory.
func fixture(t testing.TB, out string) {
	t.Helper()
	writeFile(t, out+"/a.txt", "hello\n", 0o644)
	writeFile(t, out+"/bin/tool", "#!/bin/sh\necho hi\n", 0o755)
	writeFile(t, out+"/bin/suid", "suid", 0o755|fs.ModeSetuid)
	writeFile(t, out+"/secret", "s3cr3t", 0o600)
	writeFile(t, out+"/deep/er/still/x.o", strings.Repeat("x", 3<<20+17), 0o644) // bigger than a buffer
	writeFile(t, out+"/same1", "same", 0o644)
	writeFile(t, out+"/same2", "same", 0o640)
	writeFile(t, out+"/empty-file", "", 0o644)
	mkdir(t, out+"/empty", 0o755)
	mkdir(t, out+"/locked", 0o555)
	mkdir(t, out+"/sticky", 0o777|fs.ModeSticky)
	symlink(t, "a.txt", out+"/rel")
	symlink(t, "/etc/hostname", out+"/abs")
	symlink(t, "nowhere/at/all", out+"/dangling")
	symlink(t, "bin", out+"/todir")
}

// hashFile is Snapshot's hash for tests.
func hashFile(p string) (fingerprint.Sum, error) { return fingerprint.HashFile(p) }

// snapshot snapshots roots, failing t on error.
func snapshot(t testing.TB, roots ...string) []Item {
	t.Helper()
	items, err := Snapshot(roots, hashFile)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// store snapshots roots and stores them under k.
func store(t testing.TB, c *Cache, k fingerprint.Sum, roots ...string) {
	t.Helper()
	if err := c.Store(k, roots, snapshot(t, roots...), nil); err != nil {
		t.Fatal(err)
	}
}

// lookup looks k up, failing t on an error or a miss.
func lookup(t testing.TB, c *Cache, k fingerprint.Sum) *Entry {
	t.Helper()
	e, err := c.Lookup(k)
	if err != nil {
		t.Fatal(err)
	}
	if e == nil {
		t.Fatalf("Lookup(%s): a miss", k)
	}
	return e
}

// describe walks paths (not following symlinks) and describes each file,
// one line per path, sorted: what a restore must reproduce.
func describe(t testing.TB, paths ...string) string {
	t.Helper()
	var lines []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == root {
					lines = append(lines, p+" missing")
					return nil
				}
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			m := fi.Mode()
			switch {
			case m.IsRegular():
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				lines = append(lines, fmt.Sprintf("%s file %v %s", p, m&keptModeBits, fingerprint.HashBytes(data)))
			case m.IsDir():
				lines = append(lines, fmt.Sprintf("%s dir %v", p, m&keptModeBits))
			case m&fs.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				lines = append(lines, fmt.Sprintf("%s symlink %s", p, target))
			default:
				lines = append(lines, fmt.Sprintf("%s %v", p, m))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// hidden lists the temporary files left in dir and its subdirectories.
func hidden(t testing.TB, dir string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), tempPrefix[1:]) {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// tmpFiles lists what is in the cache's tmp directory.
func tmpFiles(t testing.TB, c *Cache) []string {
	t.Helper()
	names, err := readDirNames(c.path(tmpDir))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// setLastUse sets the mtime of k's entry, its last use.
func setLastUse(t testing.TB, c *Cache, k fingerprint.Sum, when time.Time) {
	t.Helper()
	if err := os.Chtimes(c.entryPath(k), when, when); err != nil {
		t.Fatal(err)
	}
}

// verifyRestored checks that what is at e's roots is what e describes:
// nothing missing, nothing extra, contents, modes and targets.
func verifyRestored(e *Entry) error {
	want := make(map[string]Item, len(e.Items))
	for _, it := range e.Items {
		want[it.Path] = it
	}
	tops, _ := splitRoots(e.Roots)
	got, err := Snapshot(tops, hashFile)
	if err != nil {
		return err
	}
	if len(got) != len(e.Items) {
		return fmt.Errorf("%d items restored, want %d", len(got), len(e.Items))
	}
	for _, it := range got {
		if w, ok := want[it.Path]; !ok || w != it {
			return fmt.Errorf("restored %+v, want %+v", it, w)
		}
	}
	return nil
}

// mkfifo makes a named pipe at p.
func mkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }
