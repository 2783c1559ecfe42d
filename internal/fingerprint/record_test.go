package fingerprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func base() *Record {
	return &Record{
		Version:    Version,
		Definition: Definition{Name: "link", Deps: []string{"gen"}, Inputs: []string{"src/*.c"}, Outputs: []string{"build/app"}, Key: "cc 13", Run: "function() end"},
		Inputs:     []File{{"src/a.c", HashBytes([]byte("a"))}, {"src/b.c", HashBytes([]byte("b"))}},
		DepOutputs: []DepOutput{{"gen", "gen/x.h", HashBytes([]byte("x"))}},
		Env:        []EnvVar{{"CC", "cc", true}, {"CFLAGS", "", true}},
		Params:     []EnvVar{{"mode", "debug", true}},
	}
}

func TestSumDistinguishes(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Record)
	}{
		{"name", func(r *Record) { r.Definition.Name = "link2" }},
		{"byte moved between name and deps", func(r *Record) { r.Definition.Name, r.Definition.Deps = "linkg", []string{"en"} }},
		{"byte moved between key and run", func(r *Record) { r.Definition.Key, r.Definition.Run = "cc 1", "3function() end" }},
		{"byte moved between deps and inputs", func(r *Record) { r.Definition.Deps, r.Definition.Inputs = []string{"ge"}, []string{"nsrc/*.c"} }},
		{"pattern moved to outputs", func(r *Record) {
			r.Definition.Inputs, r.Definition.Outputs = nil, []string{"src/*.c", "build/app"}
		}},
		{"input path", func(r *Record) { r.Inputs[0].Path = "src/A.c" }},
		{"input hash", func(r *Record) { r.Inputs[1].Hash[0] ^= 1 }},
		{"input removed", func(r *Record) { r.Inputs = r.Inputs[:1] }},
		{"dependency output", func(r *Record) { r.DepOutputs[0].Hash[31] ^= 1 }},
		{"env value", func(r *Record) { r.Env[0].Value = "gcc" }},
		{"env empty vs absent", func(r *Record) { r.Env[1].Set = false }},
		{"env name and value run together", func(r *Record) { r.Env[0] = EnvVar{"CCc", "", true} }},
		{"param value", func(r *Record) { r.Params[0].Value = "release" }},
		{"env moved to params", func(r *Record) { r.Params = append(r.Params, r.Env[1]); r.Env = r.Env[:1] }},
	}
	want := base().Sum()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.edit(r)
			if r.Sum() == want {
				t.Errorf("same fingerprint %s after the edit", want)
			}
		})
	}
}

func TestSumIgnoresOrder(t *testing.T) {
	r := base()
	r.Inputs[0], r.Inputs[1] = r.Inputs[1], r.Inputs[0]
	r.Env[0], r.Env[1] = r.Env[1], r.Env[0]
	if got, want := r.Sum(), base().Sum(); got != want {
		t.Errorf("order of inputs changed the fingerprint: %s, want %s", got, want)
	}
	if d := Diff(base(), r); d != "" {
		t.Errorf("Diff = %q, want none", d)
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		want string
		edit func(r *Record)
	}{
		{"definition changed", func(r *Record) { r.Definition.Run = "function() print(1) end" }},
		{"definition changed", func(r *Record) { r.Definition.Name = "other" }},
		{"input src/a.c changed", func(r *Record) { r.Inputs[0].Hash[0] ^= 1 }},
		{"input src/b.c removed", func(r *Record) { r.Inputs = r.Inputs[:1] }},
		{"input src/c.c added", func(r *Record) { r.Inputs = append(r.Inputs, File{"src/c.c", Sum{}}) }},
		{"input src/0.c added", func(r *Record) { r.Inputs = append(r.Inputs, File{"src/0.c", Sum{}}) }},
		{"dependency output gen/x.h changed", func(r *Record) { r.DepOutputs[0].Hash[0] ^= 1 }},
		{"env CC changed", func(r *Record) { r.Env[0].Value = "gcc" }},
		{"env CFLAGS changed", func(r *Record) { r.Env[1].Set = false }},
		{"env LDFLAGS added", func(r *Record) { r.Env = append(r.Env, EnvVar{Name: "LDFLAGS"}) }},
		{"parameter mode changed", func(r *Record) { r.Params[0].Value = "release" }},
		{"input src/a.c changed", func(r *Record) { r.Inputs[0].Hash[0] ^= 1; r.Env[0].Value = "gcc" }},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r := base()
			tt.edit(r)
			if got := Diff(base(), r); got != tt.want {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Diff(nil, base()); got != "never ran" {
		t.Errorf("Diff(nil) = %q", got)
	}
}

func TestRecordJSON(t *testing.T) {
	data, err := json.Marshal(base())
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sum() != base().Sum() || Diff(base(), r) != "" {
		t.Errorf("round trip changed the record: %s", data)
	}
	old := base()
	old.Version = Version + 1
	data, _ = json.Marshal(old)
	if _, err := ParseRecord(data); !errors.Is(err, ErrVersion) {
		t.Errorf("foreign version: err = %v", err)
	}
	for _, bad := range []string{"", "{", `{"version":1,"inputs":[{"hash":"zz"}]}`, "null"} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("ParseRecord(%q) succeeded", bad)
		}
	}
}

func TestDiffOutputs(t *testing.T) {
	a, b, c := HashBytes([]byte("a")), HashBytes([]byte("b")), HashBytes([]byte("c"))
	old := []File{{"build/app", a}, {"build/lib.a", b}}
	tests := []struct {
		now  []File
		want string
	}{
		{[]File{{"build/app", a}, {"build/lib.a", b}}, ""},
		{[]File{{"build/app", a}}, "output build/lib.a missing"},
		{[]File{{"build/lib.a", b}}, "output build/app missing"},
		{[]File{{"build/app", c}, {"build/lib.a", b}}, "output build/app changed since the last run"},
		{[]File{{"build/app", a}, {"build/extra", c}, {"build/lib.a", b}}, "output build/extra changed since the last run"},
		{nil, "output build/app missing"},
	}
	for _, tt := range tests {
		if got := DiffOutputs(old, tt.now); got != tt.want {
			t.Errorf("DiffOutputs(%v) = %q, want %q", tt.now, got, tt.want)
		}
	}
	if got := DiffOutputs(nil, []File{{"x", a}}); got != "output x changed since the last run" {
		t.Errorf("DiffOutputs(nil, x) = %q", got)
	}
}

func TestPrefixCarriesVersion(t *testing.T) {
	if want := fmt.Sprintf("hazlua fingerprint v%d\x00", Version); prefix != want {
		t.Errorf("prefix %q, want %q: bump it with Version", prefix, want)
	}
}
