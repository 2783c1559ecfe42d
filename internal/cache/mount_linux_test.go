package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size (e.g. "1m") on a fresh directory and
// returns it; it is unmounted when t ends. The test is skipped where
// mounting is not permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// remountReadOnly makes the tmpfs at dir read-only.
func remountReadOnly(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", dir, err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	t.Run("new cache", func(t *testing.T) {
		dir := mountTmpfs(t, "1m")
		remountReadOnly(t, dir)
		_, err := Open(filepath.Join(dir, "cache"))
		if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), filepath.Join(dir, "cache")) {
			t.Errorf("Open on a read-only mount: err = %v, want EROFS naming the directory", err)
		}
	})
	t.Run("existing cache", func(t *testing.T) {
		// Every directory exists: only creating a file tells.
		dir := mountTmpfs(t, "1m")
		c, err := Open(filepath.Join(dir, "cache"))
		if err != nil {
			t.Fatal(err)
		}
		remountReadOnly(t, dir)
		_, err = Open(c.Dir())
		if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), c.Dir()) {
			t.Errorf("Open of a read-only cache: err = %v, want EROFS naming the directory", err)
		}
		// A Store through a Cache opened before fails cleanly too.
		inTempDir(t)
		writeFile(t, "out", "x", 0o644)
		if err := c.Store(key("k"), []string{"out"}, snapshot(t, "out"), nil); !errors.Is(err, syscall.EROFS) {
			t.Errorf("Store into a read-only cache: err = %v, want EROFS", err)
		}
	})
}

func TestStoreFull(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	c, err := Open(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	inTempDir(t)
	writeFile(t, "small", "fits", 0o644)
	store(t, c, key("small"), "small")
	for i := range 4 {
		writeFile(t, filepath.Join("out", string(rune('a'+i))), strings.Repeat(string(rune('a'+i)), 400<<10), 0o644)
	}
	tests := []struct {
		name  string
		roots []string
		log   string
	}{
		{"outputs", []string{"out"}, ""},
		{"log", []string{"small"}, strings.Repeat("log line\n", 200<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log *strings.Reader
			if tt.log != "" {
				log = strings.NewReader(tt.log)
			}
			items := snapshot(t, tt.roots...)
			var err error
			if log != nil {
				err = c.Store(key(tt.name), tt.roots, items, log)
			} else {
				err = c.Store(key(tt.name), tt.roots, items, nil)
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Store into a full cache: err = %v, want ENOSPC", err)
			}
			if e, err := c.Lookup(key(tt.name)); e != nil || err != nil {
				t.Errorf("Lookup after = %v, %v; want a clean miss", e, err)
			}
			if tmp := tmpFiles(t, c); len(tmp) != 0 {
				t.Errorf("temporary files left: %q", tmp)
			}
			if _, err := os.Lstat(c.entryPath(key(tt.name))); err == nil {
				t.Error("an entry was left")
			}
			lookup(t, c, key("small")) // what was there is intact
		})
	}
}
