package cache

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// diskBytes sums the sizes of the files under the cache's blobs and
// entries directories.
func diskBytes(t *testing.T, c *Cache) int64 {
	t.Helper()
	var n int64
	for _, d := range []string{blobsDir, entriesDir} {
		filepath.WalkDir(c.path(d), func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				fi, _ := e.Info()
				n += fi.Size()
			}
			return err
		})
	}
	return n
}

// stats returns c.Stats, failing t on error.
func stats(t *testing.T, c *Cache) Stats {
	t.Helper()
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restore looks k up and restores it.
func restore(t *testing.T, c *Cache, k fingerprint.Sum) {
	t.Helper()
	if err := c.Restore(lookup(t, c, k)); err != nil {
		t.Fatal(err)
	}
}

// threeEntries stores entries "a", "b", "c": a and b share one blob, each
// has a blob of its own of size bytes.
func threeEntries(t *testing.T, c *Cache, size int) {
	t.Helper()
	inTempDir(t)
	for _, k := range []string{"a", "b", "c"} {
		writeFile(t, k+"/own", strings.Repeat(k, size), 0o644)
		if k != "c" {
			writeFile(t, k+"/shared", "shared by a and b", 0o644)
		}
		store(t, c, key(k), k)
	}
}

func TestStats(t *testing.T) {
	c := openCache(t)
	if s := stats(t, c); s != (Stats{}) {
		t.Errorf("empty cache: %+v", s)
	}
	threeEntries(t, c, 1000)
	restore(t, c, key("a"))
	restore(t, c, key("a"))
	restore(t, c, key("c"))
	want := Stats{Entries: 3, Blobs: 4, Bytes: diskBytes(t, c), Hits: 3}
	if s := stats(t, c); s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
	if want.Bytes < 3000 {
		t.Errorf("cache holds %d bytes, want more than its blobs", want.Bytes)
	}
}

// present reports which of keys have an entry.
func present(t *testing.T, c *Cache, keys ...string) string {
	t.Helper()
	var out []string
	for _, k := range keys {
		e, err := c.Lookup(key(k))
		if err != nil {
			t.Fatal(err)
		}
		if e != nil {
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

func TestPruneAge(t *testing.T) {
	c := openCache(t)
	threeEntries(t, c, 1000)
	now := time.Now()
	setLastUse(t, c, key("a"), now.Add(-72*time.Hour))
	setLastUse(t, c, key("b"), now.Add(-48*time.Hour))
	setLastUse(t, c, key("c"), now.Add(-1*time.Hour))
	res, err := c.Prune(0, 60*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 1 || res.Blobs != 1 {
		t.Errorf("Prune = %+v, want a's entry and its own blob (the shared one is b's too)", res)
	}
	if got := present(t, c, "a", "b", "c"); got != "b c" {
		t.Errorf("after Prune: %q, want b c", got)
	}
	restore(t, c, key("b")) // the shared blob is still there
	restore(t, c, key("c")) // marks c used now

	setLastUse(t, c, key("b"), now.Add(-48*time.Hour))
	before := diskBytes(t, c)
	res, err = c.Prune(0, 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := present(t, c, "a", "b", "c"); got != "c" {
		t.Errorf("after second Prune: %q, want c (restored just now)", got)
	}
	if res.Entries != 1 || res.Blobs != 2 || res.Bytes != before-diskBytes(t, c) {
		t.Errorf("Prune = %+v, want b's entry and blobs, %d bytes", res, before-diskBytes(t, c))
	}
	if s := stats(t, c); s.Blobs != 1 {
		t.Errorf("after pruning: %+v, want c's one blob", s)
	}
}

func TestPruneSize(t *testing.T) {
	c := openCache(t)
	threeEntries(t, c, 100000)
	now := time.Now()
	for i, k := range []string{"b", "c", "a"} { // least recently used first
		setLastUse(t, c, key(k), now.Add(time.Duration(i-10)*time.Hour))
	}
	total := stats(t, c).Bytes
	if res, err := c.Prune(total, 0, now); err != nil || res != (PruneResult{}) {
		t.Errorf("Prune to the size held = %+v, %v; want nothing removed", res, err)
	}
	// Removing b alone frees only its own blob and entry: the shared
	// blob stays for a.
	res, err := c.Prune(total-1, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := present(t, c, "a", "b", "c"); got != "a c" || res.Entries != 1 || res.Blobs != 1 {
		t.Errorf("Prune(total-1) = %+v, left %q; want b removed", res, got)
	}
	if s := stats(t, c); s.Bytes != total-res.Bytes || s.Bytes > total-100000 {
		t.Errorf("after Prune: %+v, want %d bytes", s, total-res.Bytes)
	}
	res, err = c.Prune(1, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := present(t, c, "a", "b", "c"); got != "" || res.Entries != 2 || res.Blobs != 3 {
		t.Errorf("Prune(1) = %+v, left %q; want everything removed", res, got)
	}
	if s := stats(t, c); s != (Stats{}) {
		t.Errorf("after Prune(1): %+v", s)
	}
}

// TestPruneLRUOrder: among entries over the size, Prune removes the least
// recently used, and a Restore counts as a use.
func TestPruneLRUOrder(t *testing.T) {
	c := openCache(t)
	threeEntries(t, c, 100000)
	old := time.Now().Add(-time.Hour)
	for _, k := range []string{"a", "b", "c"} {
		setLastUse(t, c, key(k), old)
	}
	setLastUse(t, c, key("b"), old.Add(-time.Minute))
	restore(t, c, key("a"))
	one := stats(t, c).Bytes / 2 // room for one entry
	if _, err := c.Prune(one, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := present(t, c, "a", "b", "c"); got != "a" {
		t.Errorf("after Prune: %q, want a (restored last)", got)
	}
}

func TestPruneGarbage(t *testing.T) {
	c := openCache(t)
	threeEntries(t, c, 10)
	orphan := fingerprint.HashBytes([]byte("orphan"))
	writeFile(t, c.blobPath(orphan), "orphan", 0o444)
	writeFile(t, c.path(blobsDir, "zz", "junk"), "junk", 0o644)
	writeFile(t, c.path(tmpDir, tempPrefix+"123"), "crashed", 0o600)
	writeFile(t, c.entryPath(key("gone"))+".junk", "xx", 0o644)
	overwrite(t, c.entryPath(key("c")), []byte("corrupt"))
	res, err := c.Prune(0, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 1 || res.Blobs != 3 {
		t.Errorf("Prune = %+v, want the corrupt entry and blobs orphan, junk and c's", res)
	}
	if got := present(t, c, "a", "b", "c"); got != "a b" {
		t.Errorf("after Prune: %q", got)
	}
	for _, p := range []string{c.blobPath(orphan), c.path(blobsDir, "zz", "junk"), c.path(tmpDir, tempPrefix+"123"), c.entryPath(key("gone")) + ".junk"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s not removed", p)
		}
	}
	if s := stats(t, c); s.Entries != 2 || s.Blobs != 3 {
		t.Errorf("after Prune: %+v", s)
	}
}

func TestClear(t *testing.T) {
	c := openCache(t)
	threeEntries(t, c, 10)
	writeFile(t, c.path(tmpDir, tempPrefix+"123"), "crashed", 0o600)
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, c); s != (Stats{}) {
		t.Errorf("after Clear: %+v", s)
	}
	if got := present(t, c, "a", "b", "c"); got != "" {
		t.Errorf("after Clear: %q present", got)
	}
	if tmp := tmpFiles(t, c); len(tmp) != 0 {
		t.Errorf("after Clear: %q in tmp", tmp)
	}
	store(t, c, key("a"), "a")
	if err := os.RemoveAll("a"); err != nil {
		t.Fatal(err)
	}
	restore(t, c, key("a"))
	if data, err := os.ReadFile("a/own"); err != nil || string(data) != strings.Repeat("a", 10) {
		t.Errorf("restored after Clear: %q, %v", data, err)
	}
}
