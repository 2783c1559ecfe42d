package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// withSum appends the checksum line to an entry's JSON.
func withSum(body []byte) []byte {
	sum := sha256.Sum256(body)
	return append(append(append([]byte(nil), body...), sumPrefix...), hex.EncodeToString(sum[:])+"\n"...)
}

// bodyOf returns the JSON line of an entry file.
func bodyOf(data []byte) []byte { return data[:len(data)-sumLineLen] }

// overwrite replaces the contents of a cache file (blobs and entries are
// read-only).
func overwrite(t testing.TB, p string, data []byte) {
	t.Helper()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptEntry: each damaged entry is a miss wrapping ErrCorrupt, and
// is gone afterwards, so the next Lookup is a clean miss.
func TestCorruptEntry(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	fixture(t, "out")
	k := key("k")
	store(t, c, k, "out")
	good, err := os.ReadFile(c.entryPath(k))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		body := string(bodyOf(good))
		if !strings.Contains(body, old) {
			t.Fatalf("entry holds no %q:\n%s", old, body)
		}
		return withSum([]byte(strings.Replace(body, old, new, 1)))
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x20
		return b
	}
	blob := c.blobPath(fingerprint.HashBytes([]byte("hello\n")))
	tests := []struct {
		name  string
		data  []byte // the entry file's new contents
		setup func(t *testing.T)
	}{
		{"truncated by one byte", good[:len(good)-1], nil},
		{"truncated to half", good[:len(good)/2], nil},
		{"empty", []byte{}, nil},
		{"flipped byte in the JSON", flip(len(good) / 3), nil},
		{"flipped byte in the checksum", flip(len(good) - 5), nil},
		{"garbage", []byte(strings.Repeat("not an entry at all\n", 10)), nil},
		{"foreign version", edit(`"version":1`, `"version":2`), nil},
		{"no version", edit(`"version":1,`, ``), nil},
		{"unclean path", edit(`"out/a.txt"`, `"out/./a.txt"`), nil},
		{"item outside every root", edit(`"path":"out/a.txt"`, `"path":"elsewhere"`), nil},
		{"escaping path", edit(`"path":"out/a.txt"`, `"path":"out/../../a.txt"`), nil},
		{"bad kind", edit(`"kind":"symlink"`, `"kind":"fifo"`), nil},
		{"file without hash", edit(`"kind":"file","mode":420,"hash":"`+fingerprint.HashBytes([]byte("hello\n")).String()+`"`, `"kind":"file","mode":420`), nil},
		{"item inside a symlink", edit(`"path":"out/bin"`, `"path":"out/abs/bin"`), nil},
		{"root without item", edit(`"roots":["out"]`, `"roots":["out","more"]`), nil},
		{"json with trailing text", withSum(append(bytes.Clone(bodyOf(good)), " {}"...)), nil},
		{"a directory", good, func(t *testing.T) {
			if err := os.Remove(c.entryPath(k)); err != nil {
				t.Fatal(err)
			}
			mkdir(t, c.entryPath(k)+"/x", 0o755)
		}},
		{"missing blob", good, func(t *testing.T) {
			if err := os.Remove(blob); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store(t, c, k, "out")
			overwrite(t, c.entryPath(k), tt.data)
			if tt.setup != nil {
				tt.setup(t)
			}
			before := describe(t, "out")
			e, err := c.Lookup(k)
			if !errors.Is(err, ErrCorrupt) || e != nil {
				t.Fatalf("Lookup = %v, %v; want an error wrapping ErrCorrupt", e, err)
			}
			if !strings.Contains(err.Error(), c.entryPath(k)) {
				t.Errorf("error %q does not name the entry", err)
			}
			for _, p := range []string{c.entryPath(k)} {
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s not removed: %v", p, err)
				}
			}
			if e, err := c.Lookup(k); e != nil || err != nil {
				t.Errorf("second Lookup = %v, %v; want a clean miss", e, err)
			}
			if after := describe(t, "out"); after != before {
				t.Errorf("outputs changed:\n%s", after)
			}
		})
	}
	t.Run("entry of another key", func(t *testing.T) {
		store(t, c, k, "out")
		other := key("other")
		if err := os.MkdirAll(filepath.Dir(c.entryPath(other)), 0o755); err != nil {
			t.Fatal(err)
		}
		overwrite(t, c.entryPath(k), good)
		if err := os.Link(c.entryPath(k), c.entryPath(other)); err != nil {
			t.Fatal(err)
		}
		if e, err := c.Lookup(other); !errors.Is(err, ErrCorrupt) || e != nil {
			t.Fatalf("Lookup = %v, %v; want an error wrapping ErrCorrupt", e, err)
		}
		if _, err := os.Lstat(c.entryPath(other)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("entry copied to another key not removed: %v", err)
		}
		lookup(t, c, k) // the original is fine
	})
}

// TestRestoreCorruptBlob: a missing or damaged blob fails the Restore with
// ErrCorrupt before anything is renamed: the outputs, and the directories
// around them, are as they were; the bad blob is gone.
func TestRestoreCorruptBlob(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16)
	tests := []struct {
		name   string
		damage func(data []byte) []byte // nil: remove the blob
	}{
		{"missing", nil},
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"longer", func(b []byte) []byte { return append(b, 0) }},
		{"empty", func(b []byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCache(t)
			dir := inTempDir(t)
			writeFile(t, "first", "first, new", 0o644)
			fixture(t, "deep/er/second")
			writeFile(t, "deep/er/second/bad/big", big, 0o644)
			roots := []string{"first", "deep/er/second"}
			k := key("k")
			store(t, c, k, roots...)
			e := lookup(t, c, k)
			// The checkout as the next run finds it: first is old, deep
			// does not exist.
			if err := removeTree("deep"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, "first", "first, old", 0o600)
			before := describe(t, dir)

			blob := c.blobPath(fingerprint.HashBytes([]byte(big)))
			if tt.damage == nil {
				if err := os.Remove(blob); err != nil {
					t.Fatal(err)
				}
			} else {
				data, err := os.ReadFile(blob)
				if err != nil {
					t.Fatal(err)
				}
				overwrite(t, blob, tt.damage(data))
			}
			err := c.Restore(e)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Restore err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), "deep/er/second/bad/big") {
				t.Errorf("error %q does not name the file", err)
			}
			if after := describe(t, dir); after != before {
				t.Errorf("failed Restore changed the checkout:\n%s\nwas:\n%s", after, before)
			}
			if _, err := os.Lstat(blob); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("bad blob not removed: %v", err)
			}
			if s, _ := c.Stats(); s.Hits != 0 {
				t.Errorf("failed Restore counted a hit: %+v", s)
			}
			if e, err := c.Lookup(k); !errors.Is(err, ErrCorrupt) || e != nil {
				t.Errorf("Lookup after = %v, %v; want ErrCorrupt (blob missing)", e, err)
			}
			if e, err := c.Lookup(k); e != nil || err != nil {
				t.Errorf("second Lookup after = %v, %v; want a clean miss", e, err)
			}
		})
	}
}

func TestOpenLogCorrupt(t *testing.T) {
	for _, remove := range []bool{false, true} {
		c := openCache(t)
		inTempDir(t)
		writeFile(t, "out", "x", 0o644)
		k := key("k")
		if err := c.Store(k, []string{"out"}, snapshot(t, "out"), strings.NewReader("the log")); err != nil {
			t.Fatal(err)
		}
		e := lookup(t, c, k)
		blob := c.blobPath(*e.Log)
		if remove {
			os.Remove(blob)
		} else {
			overwrite(t, blob, []byte("the lie"))
		}
		if r, err := c.OpenLog(e); !errors.Is(err, ErrCorrupt) || r != nil {
			t.Errorf("remove=%v: OpenLog = %v, %v; want ErrCorrupt", remove, r, err)
		}
		if _, err := os.Lstat(blob); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("remove=%v: bad log blob not removed: %v", remove, err)
		}
	}
}

// TestRestoreInvalidEntry: an Entry the caller built wrong is refused.
func TestRestoreInvalidEntry(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	for _, e := range []*Entry{
		nil,
		{Roots: []string{"out"}},
		{Roots: []string{"/"}, Items: []Item{{Path: "/", Kind: Dir}}},
		{Roots: []string{"out"}, Items: []Item{{Path: "out", Kind: 9}}},
	} {
		if err := c.Restore(e); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Restore(%+v) err = %v, want ErrCorrupt", e, err)
		}
	}
	if h := describe(t, "."); h != ". dir "+describeMode(t, ".") {
		t.Errorf("Restore of invalid entries wrote: %s", h)
	}
}

// describeMode is the mode describe gives the directory p.
func describeMode(t *testing.T, p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return (fi.Mode() & keptModeBits).String()
}
