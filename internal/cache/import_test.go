package cache

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// TestImport: an entry exported from one cache (EntryData, OpenBlob) and
// imported into another (ImportBlob, ImportEntry) restores the same tree;
// a blob whose content does not match, or whose fill fails halfway, is
// not kept; an entry whose blobs are missing, or for another key, is
// refused.
func TestImport(t *testing.T) {
	inTempDir(t)
	fixture(t, "out")
	want := describe(t, "out")
	src, dst := openCache(t), openCache(t)
	k := key("a")
	store(t, src, k, "out")
	data, e, err := src.EntryData(k)
	if err != nil || e == nil {
		t.Fatalf("EntryData: %v, %v", e, err)
	}
	if d, e2, err := src.EntryData(key("none")); d != nil || e2 != nil || err != nil {
		t.Fatalf("EntryData of a missing key: %v %v %v", d, e2, err)
	}
	if err := dst.ImportEntry(k, data); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ImportEntry before its blobs: %v", err)
	}
	blobs := e.Blobs()
	if len(blobs) == 0 {
		t.Fatal("no blobs")
	}
	// A wrong content and a fill that fails halfway leave nothing.
	if err := dst.ImportBlob(blobs[0], func(w io.Writer) error { _, err := w.Write([]byte("wrong")); return err }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ImportBlob of a wrong content: %v", err)
	}
	boom := errors.New("connection reset")
	if err := dst.ImportBlob(blobs[0], func(w io.Writer) error { w.Write([]byte("par")); return boom }); err != boom {
		t.Fatalf("ImportBlob of a failed fill: %v", err)
	}
	if dst.HasBlob(blobs[0]) {
		t.Fatal("a bad import was kept")
	}
	if tmp, _ := os.ReadDir(filepath.Join(dst.Dir(), tmpDir)); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	for _, b := range blobs {
		f, _, err := src.OpenBlob(b)
		if err != nil {
			t.Fatal(err)
		}
		err = dst.ImportBlob(b, func(w io.Writer) error { _, err := io.Copy(w, f); return err })
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.ImportEntry(key("b"), data); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ImportEntry under another key: %v", err)
	}
	if err := dst.ImportEntry(k, data); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll("out"); err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(lookup(t, dst, k)); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, "out"); got != want {
		t.Fatalf("restored:\n%s\nwant:\n%s", got, want)
	}
	var zero fingerprint.Sum
	if _, err := ParseEntry(zero, []byte("garbage")); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
}
