package cache

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// sampleEntry is a valid entry of every kind of item, with names that are
// not valid UTF-8 and a log.
func sampleEntry() *Entry {
	h := fingerprint.HashBytes
	log := h([]byte("log"))
	return &Entry{
		Key:   key("sample"),
		Roots: []string{"out", "/abs/f\xff", "out/sub", "link"},
		Items: []Item{
			{Path: "/abs/f\xff", Kind: File, Mode: 0o600, Hash: h([]byte("abs"))},
			{Path: "link", Kind: Symlink, Target: "../t\x80rget"},
			{Path: "out", Kind: Dir, Mode: 0o755 | fs.ModeSetgid},
			{Path: "out/a <&> \u2028\"quoted\"\n", Kind: File, Mode: 0o755 | fs.ModeSetuid, Hash: h([]byte("a"))},
			{Path: "out/empty", Kind: File, Hash: h(nil)},
			{Path: "out/sub", Kind: Dir, Mode: 0o555},
			{Path: "out/sub/x", Kind: Symlink, Target: "/x"},
		},
		Log:     &log,
		Created: time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.UTC),
	}
}

// sameEntry reports whether a and b are equal.
func sameEntry(a, b *Entry) bool {
	return a.Key == b.Key && slices.Equal(a.Roots, b.Roots) && slices.Equal(a.Items, b.Items) &&
		(a.Log == nil) == (b.Log == nil) && (a.Log == nil || *a.Log == *b.Log) && a.Created.Equal(b.Created)
}

func TestEntryRoundTrip(t *testing.T) {
	e := sampleEntry()
	if err := e.check(); err != nil {
		t.Fatal(err)
	}
	data, err := encodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`{"base64":"L2Ficy9m/w=="}`)) {
		t.Errorf("a path that is not UTF-8 is not in base64:\n%s", data)
	}
	got, err := decodeEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEntry(got, e) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, e)
	}
	e.Log = nil
	data, _ = encodeEntry(e)
	if got, err := decodeEntry(data); err != nil || got.Log != nil {
		t.Errorf("entry without a log: %+v, %v", got, err)
	}
}

// goldenEntry is sampleEntry as entry format 1 writes it: entries written
// by earlier builds must keep decoding to the same thing until
// entryVersion changes. Regenerate it only when bumping entryVersion:
// go test -run TestEntryGolden -update-golden.
const goldenEntry = "testdata/entry-v1"

var updateGolden = flag.Bool("update-golden", false, "rewrite "+goldenEntry)

func TestEntryGolden(t *testing.T) {
	if *updateGolden {
		data, err := encodeEntry(sampleEntry())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenEntry, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(goldenEntry)
	if err != nil {
		t.Fatal(err)
	}
	e, err := decodeEntry(data)
	if err != nil {
		t.Fatalf("%s: %v (entry format changed without a new entryVersion?)", goldenEntry, err)
	}
	if !sameEntry(e, sampleEntry()) {
		t.Errorf("%s decodes to\n%+v\nwant\n%+v", goldenEntry, e, sampleEntry())
	}
}

// TestRoundTripOddNames stores and restores files whose names and
// symlink targets are not UTF-8 or hold JSON's special characters.
func TestRoundTripOddNames(t *testing.T) {
	c := openCache(t)
	inTempDir(t)
	for _, n := range []string{"bad\xff\xfe", "new\nline", `quote"back\slash`, "<&>", "\u2028", "é"} {
		writeFile(t, "out/"+n, n, 0o644)
		symlink(t, "../"+n, "out/link-"+n)
	}
	want := describe(t, "out")
	store(t, c, key("odd"), "out")
	inTempDir(t)
	if err := c.Restore(lookup(t, c, key("odd"))); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, "out"); got != want {
		t.Errorf("restored:\n%q\nwant:\n%q", got, want)
	}
}

func TestEntryCheck(t *testing.T) {
	f := func(p string) Item { return Item{Path: p, Kind: File, Mode: 0o644} }
	d := func(p string) Item { return Item{Path: p, Kind: Dir, Mode: 0o755} }
	tests := []struct {
		name  string
		roots []string
		items []Item
		bad   string // "" when valid
	}{
		{"empty", nil, nil, ""},
		{"nested root", []string{"a", "a/b"}, []Item{d("a"), f("a/b")}, ""},
		{"dot dot prefix", []string{"../out"}, []Item{d("../out"), f("../out/x")}, ""},
		{"root dot dot", []string{".."}, []Item{d("..")}, "names no file"},
		{"root slash", []string{"/"}, []Item{d("/")}, "names no file"},
		{"nul", []string{"a\x00"}, []Item{f("a\x00")}, "NUL"},
		{"duplicate", []string{"a"}, []Item{f("a"), f("a")}, "not sorted"},
		{"parent missing", []string{"a"}, []Item{d("a"), f("a/b/c")}, "not an item"},
		{"inside a file", []string{"a"}, []Item{f("a"), f("a/b")}, "inside"},
		{"outside", []string{"a"}, []Item{f("a"), f("b")}, "outside"},
		{"root missing", []string{"a", "b"}, []Item{f("a")}, `"b" is not an item`},
		{"file mode", []string{"a"}, []Item{{Path: "a", Kind: File, Mode: fs.ModeDir | 0o755}}, "mode"},
		{"symlink mode", []string{"a"}, []Item{{Path: "a", Kind: Symlink, Mode: 0o777, Target: "x"}}, "symlink"},
		{"symlink without target", []string{"a"}, []Item{{Path: "a", Kind: Symlink}}, "target"},
		{"file with target", []string{"a"}, []Item{{Path: "a", Kind: File, Target: "x"}}, "target"},
		{"dir with hash", []string{"a"}, []Item{{Path: "a", Kind: Dir, Hash: key("x")}}, "hash"},
		{"bad kind", []string{"a"}, []Item{{Path: "a", Kind: 3}}, "bad kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Entry{Roots: tt.roots, Items: tt.items}).check()
			if tt.bad == "" && err != nil || tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)) {
				t.Errorf("check = %v, want %q", err, tt.bad)
			}
		})
	}
}

// FuzzDecodeEntry: decoding never panics, and what it accepts is a valid
// entry that encodes and decodes back to itself. Each input is tried as
// an entry file and, so that the fuzzer gets past the checksum, as the
// JSON of one.
func FuzzDecodeEntry(f *testing.F) {
	good, err := encodeEntry(sampleEntry())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(bodyOf(good))
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte(`{"version":1,"key":"` + key("k").String() + `","roots":["a"],"items":[{"path":"a","kind":"dir"},{"path":"a/b","kind":"file","hash":"` + key("b").String() + `"}],"created":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"version":1,"roots":[{"base64":"/w=="}],"items":[{"path":{"base64":"/w=="},"kind":"symlink","target":{"base64":""}}]}`))
	f.Add([]byte(`{"version":2}`))
	if data, err := os.ReadFile(goldenEntry); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, withSum(data)} {
			e, err := decodeEntry(in)
			if err != nil {
				continue
			}
			if err := e.check(); err != nil {
				t.Fatalf("decodeEntry accepted an entry that check refuses: %v", err)
			}
			enc, err := encodeEntry(e)
			if err != nil {
				t.Fatalf("decoded entry does not encode: %v", err)
			}
			again, err := decodeEntry(enc)
			if err != nil {
				t.Fatalf("re-encoded entry does not decode: %v\n%s", err, enc)
			}
			if !sameEntry(e, again) {
				t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, again)
			}
		}
	})
}
