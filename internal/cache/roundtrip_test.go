package cache

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoundTrip stores outputs of each kind of root in one checkout and
// restores them into a fresh one: the trees must be identical.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		roots []string
	}{
		{"directory", []string{"out"}},
		{"file", []string{"out/bin/tool"}},
		{"setuid file", []string{"out/bin/suid"}},
		{"symlink", []string{"out/rel"}},
		{"dangling symlink", []string{"out/dangling"}},
		{"symlink to a directory", []string{"out/todir"}},
		{"empty directory", []string{"out/empty"}},
		{"read-only directory", []string{"out/locked"}},
		{"no outputs", nil},
		{"several roots, nested ones too", []string{"out/secret", "out/deep", "out/deep/er", "out/rel", "out/secret"}},
	}
	c := openCache(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inTempDir(t)
			fixture(t, "out")
			want := describe(t, tt.roots...)
			k := key(tt.name)
			store(t, c, k, tt.roots...)
			fresh := inTempDir(t)
			e := lookup(t, c, k)
			if err := c.Restore(e); err != nil {
				t.Fatal(err)
			}
			if got := describe(t, tt.roots...); got != want {
				t.Errorf("restored:\n%s\nwant:\n%s", got, want)
			}
			if err := verifyRestored(e); err != nil {
				t.Error(err)
			}
			if h := hidden(t, fresh); len(h) != 0 {
				t.Errorf("temporary files left: %q", h)
			}
		})
	}
	t.Run("absolute root", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "abs", "out")
		fixture(t, out)
		want := describe(t, out)
		store(t, c, key("abs"), out)
		if err := removeTree(filepath.Dir(out)); err != nil {
			t.Fatal(err)
		}
		if err := c.Restore(lookup(t, c, key("abs"))); err != nil {
			t.Fatal(err)
		}
		if got := describe(t, out); got != want {
			t.Errorf("restored:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestRestoreReplaces restores each kind of root over each kind of file
// already there: the result is the stored tree, with no leftovers.
func TestRestoreReplaces(t *testing.T) {
	kinds := map[string]func(t *testing.T, p string){
		"file":    func(t *testing.T, p string) { writeFile(t, p, "new file", 0o600) },
		"dir":     func(t *testing.T, p string) { fixture(t, p) },
		"symlink": func(t *testing.T, p string) { symlink(t, "elsewhere", p) },
	}
	existing := map[string]func(t *testing.T, p string){
		"file":  func(t *testing.T, p string) { writeFile(t, p, "old file", 0o644) },
		"empty": func(t *testing.T, p string) { mkdir(t, p, 0o755) },
		"dir": func(t *testing.T, p string) {
			writeFile(t, p+"/old/x", "x", 0o644)
			writeFile(t, p+"/a.txt", "old", 0o644)
			mkdir(t, p+"/old", 0o555) // read-only: removing the old tree must cope
		},
		"symlink":        func(t *testing.T, p string) { symlink(t, "somewhere", p) },
		"symlink to dir": func(t *testing.T, p string) { writeFile(t, "target/keep", "keep", 0o644); symlink(t, "../target", p) },
		"fifo": func(t *testing.T, p string) {
			if err := mkfifo(p); err != nil {
				t.Fatal(err)
			}
		},
	}
	c := openCache(t)
	for stored, mkStored := range kinds {
		for there, mkThere := range existing {
			t.Run(stored+" over "+there, func(t *testing.T) {
				dir := inTempDir(t)
				mkStored(t, "o/root")
				want := describe(t, "o/root")
				k := key(stored + " over " + there)
				store(t, c, k, "o/root")
				if err := removeTree("o/root"); err != nil {
					t.Fatal(err)
				}
				mkThere(t, "o/root")
				var target string
				if there == "symlink to dir" {
					target = describe(t, "target")
				}
				if err := c.Restore(lookup(t, c, k)); err != nil {
					t.Fatal(err)
				}
				if got := describe(t, "o/root"); got != want {
					t.Errorf("restored:\n%s\nwant:\n%s", got, want)
				}
				if target != "" && describe(t, "target") != target {
					t.Errorf("restore wrote through the symlink: %s", describe(t, "target"))
				}
				if h := hidden(t, dir); len(h) != 0 {
					t.Errorf("temporary files left: %q", h)
				}
			})
		}
	}
}

func TestRestoreCreatesParents(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	writeFile(t, "a/b/c/out", "deep", 0o644)
	want := describe(t, "a")
	store(t, c, key("deep"), "a/b/c/out")
	if err := removeTree("a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Restore(lookup(t, c, key("deep"))); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, "a"); got != want {
		t.Errorf("restored:\n%s\nwant:\n%s", got, want)
	}
}

// TestBlobDedupe: files of equal content are one blob, in one entry and
// across entries, and an existing blob is not rewritten.
func TestBlobDedupe(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	writeFile(t, "one/x", "shared", 0o644)
	writeFile(t, "one/y", "shared", 0o755)
	writeFile(t, "two/z", "shared", 0o644)
	writeFile(t, "two/w", "own", 0o644)
	store(t, c, key("one"), "one")
	blob := c.blobPath(lookup(t, c, key("one")).Items[1].Hash)
	before, err := os.Stat(blob)
	if err != nil {
		t.Fatal(err)
	}
	store(t, c, key("two"), "two")
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries != 2 || s.Blobs != 2 {
		t.Errorf("Stats = %+v, want 2 entries and 2 blobs", s)
	}
	after, err := os.Stat(blob)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the existing blob was written again")
	}
	for _, k := range []string{"one", "two"} {
		inTempDir(t)
		e := lookup(t, c, key(k))
		if err := c.Restore(e); err != nil {
			t.Fatal(err)
		}
		if err := verifyRestored(e); err != nil {
			t.Error(err)
		}
	}
}

func TestStoreReplaces(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	writeFile(t, "out", "first", 0o644)
	store(t, c, key("k"), "out")
	writeFile(t, "out", "second", 0o644)
	store(t, c, key("k"), "out")
	writeFile(t, "out", "third", 0o644)
	if err := c.Restore(lookup(t, c, key("k"))); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile("out"); string(data) != "second" {
		t.Errorf("restored %q, want the second store's", data)
	}
}

// TestStoreChanged: a file that changed since the snapshot fails the Store,
// which stores nothing.
func TestStoreChanged(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	writeFile(t, "out/a", "a", 0o644)
	writeFile(t, "out/b", "b", 0o644)
	items := snapshot(t, "out")
	writeFile(t, "out/b", "B", 0o644)
	err := c.Store(key("k"), []string{"out"}, items, strings.NewReader("log"))
	if err == nil || !strings.Contains(err.Error(), "out/b") || !strings.Contains(err.Error(), "changed since the snapshot") {
		t.Fatalf("Store err = %v, want out/b changed", err)
	}
	if e, err := c.Lookup(key("k")); e != nil || err != nil {
		t.Errorf("Lookup after a failed Store = %v, %v", e, err)
	}
	if tmp := tmpFiles(t, c); len(tmp) != 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
	writeFile(t, "out/b", "b", 0o644) // as snapshotted: the missing file is the only error
	if err := os.Remove("out/a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(key("k"), []string{"out"}, items, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Store of a removed file: err = %v, want ErrNotExist", err)
	}
}

func TestStoreInvalid(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	writeFile(t, "out/a", "a", 0o644)
	items := snapshot(t, "out")
	tests := []struct {
		name  string
		roots []string
		items []Item
	}{
		{"items outside the roots", []string{"other"}, items},
		{"root without its item", []string{"out", "elsewhere"}, items},
		{"unsorted", []string{"out"}, []Item{items[1], items[0]}},
		{"unclean root", []string{"out/"}, items},
		{"inside a file", []string{"out"}, append(items[:2:2], Item{Path: "out/a/b", Kind: File})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Store(key(tt.name), tt.roots, tt.items, nil); err == nil {
				t.Error("Store succeeded")
			}
		})
	}
}

func TestLog(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	writeFile(t, "out", "x", 0o644)
	big := strings.Repeat("compiling…\n", 200000)
	for _, tt := range []struct {
		name string
		log  io.Reader
		want string
	}{
		{"log", strings.NewReader(big), big},
		{"empty log", strings.NewReader(""), ""},
		{"log equal to an output", strings.NewReader("x"), "x"},
		{"no log", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Store(key(tt.name), []string{"out"}, snapshot(t, "out"), tt.log); err != nil {
				t.Fatal(err)
			}
			e := lookup(t, c, key(tt.name))
			r, err := c.OpenLog(e)
			if err != nil {
				t.Fatal(err)
			}
			if tt.log == nil {
				if r != nil || e.Log != nil {
					t.Errorf("no log stored, but OpenLog = %v, Log = %v", r, e.Log)
				}
				return
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(tt.want)) {
				t.Errorf("log is %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		err := c.Store(key("read error"), []string{"out"}, snapshot(t, "out"), io.MultiReader(strings.NewReader("part"), errReader{}))
		if err == nil || !strings.Contains(err.Error(), "cache: store log: read: broken pipe") {
			t.Errorf("Store err = %v", err)
		}
		if tmp := tmpFiles(t, c); len(tmp) != 0 {
			t.Errorf("temporary files left: %q", tmp)
		}
	})
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestLookupUnknown(t *testing.T) {
	c := openCache(t)
	if e, err := c.Lookup(key("unknown")); e != nil || err != nil {
		t.Errorf("Lookup of an unknown key = %v, %v; want nil, nil", e, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/file", "", 0o644)
	if _, err := Open(dir + "/file/cache"); err == nil || !strings.Contains(err.Error(), dir+"/file/cache") {
		t.Errorf("Open under a file: err = %v, want one naming the directory", err)
	}
	writeFile(t, dir+"/other/"+versionFile, "hazlua cache 99\n", 0o644)
	if _, err := Open(dir + "/other"); err == nil || !strings.Contains(err.Error(), "hazlua cache 99") {
		t.Errorf("Open of another layout: err = %v", err)
	}
	c, err := Open(dir + "/c")
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir() != dir+"/c" {
		t.Errorf("Dir() = %q", c.Dir())
	}
	writeFile(t, dir+"/c/tmp/"+tempPrefix+"crashed", "left by a crash", 0o600)
	if _, err := Open(dir + "/c"); err != nil {
		t.Fatal(err)
	}
	if tmp := tmpFiles(t, c); len(tmp) != 0 {
		t.Errorf("Open left temporary files: %q", tmp)
	}
}

// TestDeferSync: with DeferSync, Store and Restore leave their syncfs to
// Sync, which syncs each filesystem they wrote to once; the round trip is
// the same.
func TestDeferSync(t *testing.T) {
	c := openCache(t)
	c.DeferSync = true
	inTempDir(t)
	writeFile(t, "out/a", "a", 0o644)
	items := snapshot(t, "out")
	if err := c.Store(key("d"), []string{"out"}, items, strings.NewReader("log")); err != nil {
		t.Fatal(err)
	}
	if len(c.pending) != 1 {
		t.Errorf("after a Store: %d filesystems pending, want the cache's", len(c.pending))
	}
	os.RemoveAll("out")
	if err := c.Restore(lookup(t, c, key("d"))); err != nil {
		t.Fatal(err)
	}
	if len(c.pending) != 2 {
		t.Errorf("after a Restore: %v pending, want the cache's and the output's", c.pending)
	}
	if b, err := os.ReadFile("out/a"); err != nil || string(b) != "a" {
		t.Errorf("restored out/a: %q, %v", b, err)
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	if c.pending != nil {
		t.Errorf("after Sync: %v pending", c.pending)
	}
	c.DeferSync = false
	if err := c.Store(key("e"), []string{"out"}, snapshot(t, "out"), nil); err != nil || c.pending != nil {
		t.Errorf("without DeferSync: %v, pending %v", err, c.pending)
	}
}
