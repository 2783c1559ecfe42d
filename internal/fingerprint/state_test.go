package fingerprint

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	st, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	a := Last{HashBytes([]byte("fp a")), HashBytes([]byte("out a"))}
	b := Last{HashBytes([]byte("fp b")), HashBytes([]byte("out b"))}
	st.Set("a", a)
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	// Two runs at once: each sets its own task; both survive.
	one, _ := LoadState(path)
	two, _ := LoadState(path)
	two.Set("b", b)
	one.Set("a", b)
	if err := two.Save(); err != nil {
		t.Fatal(err)
	}
	if err := one.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := got.Get("a"); l != b {
		t.Errorf("a = %v, want the later Set", l)
	}
	if l, ok := got.Get("b"); !ok || l != b {
		t.Errorf("b = %v, %v: the other run's entry was lost", l, ok)
	}
	if got.Dirty() {
		t.Error("a freshly loaded state is dirty")
	}

	data, _ := os.ReadFile(path)
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)-3],
		"flipped":   append(append([]byte(nil), data[:40]...), append([]byte{data[40] ^ 1}, data[41:]...)...),
		"empty":     {},
		"index":     encodeIndexOf(t),
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(path, bad, 0o644)
			st, err := LoadState(path)
			if !errors.Is(err, ErrCorruptState) {
				t.Errorf("err = %v, want ErrCorruptState", err)
			}
			if _, ok := st.Get("a"); ok {
				t.Error("a corrupt state kept an entry")
			}
		})
	}
}

// encodeIndexOf returns a valid stat index file: another format.
func encodeIndexOf(t *testing.T) []byte {
	ix, _ := loadTable(filepath.Join(t.TempDir(), "stat"), indexFormat)
	return ix.encode(map[string]entry{"x": {}})
}

func TestOutputsSum(t *testing.T) {
	x := []File{{"a", HashBytes([]byte("1"))}, {"b", HashBytes([]byte("2"))}}
	if OutputsSum(x) == OutputsSum(x[:1]) || OutputsSum(x) == OutputsSum([]File{{"a", x[0].Hash}, {"c", x[1].Hash}}) {
		t.Error("different outputs, same OutputsSum")
	}
	if OutputsSum(nil) != OutputsSum([]File{}) {
		t.Error("no outputs hash differently")
	}
}

func TestRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records")
	rs, err := LoadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := rs.Get("link"); r != nil || err != nil {
		t.Fatalf("Get from nothing: %v, %v", r, err)
	}
	if err := rs.Put(base()); err != nil {
		t.Fatal(err)
	}
	if err := rs.Save(); err != nil {
		t.Fatal(err)
	}
	other := base()
	other.Definition.Name = "other"
	one, _ := LoadRecords(path)
	one.Put(other)
	if err := one.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"link", "other"} {
		r, err := got.Get(name)
		if err != nil || r == nil || r.Definition.Name != name || Diff(base(), r) != "" && name == "link" {
			t.Errorf("Get(%s) = %v, %v", name, r, err)
		}
	}
	// A record filed under another name, or of another version, is an
	// error for the caller to warn about.
	got.t.set("wrong", got.t.entries["link"])
	if _, err := got.Get("wrong"); err == nil {
		t.Error("a record filed under another task's name was taken")
	}
	old := base()
	old.Version = Version - 1
	data, _ := json.Marshal(old)
	got.t.set("link", data)
	if _, err := got.Get("link"); !errors.Is(err, ErrVersion) {
		t.Errorf("a record of another version: %v", err)
	}
	os.WriteFile(path, []byte("garbage"), 0o644)
	if _, err := LoadRecords(path); !errors.Is(err, ErrCorruptRecords) {
		t.Errorf("garbage: %v", err)
	}
}
