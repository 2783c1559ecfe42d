package proc

import (
	"slices"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	base := []string{"HOME=/root", "PATH=/bin", "A=1", "B=2", "A=dup", "NOEQUALS", "EMPTY="}
	orig := slices.Clone(base)
	for _, c := range []struct {
		name  string
		set   map[string]string
		unset map[string]bool
		want  []string
	}{
		{"nothing", nil, nil, base},
		{"set replaces every entry, added in name order",
			map[string]string{"Z": "26", "A": "new", "M": "m=with=equals"}, nil,
			[]string{"HOME=/root", "PATH=/bin", "B=2", "NOEQUALS", "EMPTY=", "A=new", "M=m=with=equals", "Z=26"}},
		{"unset removes every entry", nil, map[string]bool{"A": true, "NOEQUALS": true, "MISSING": true},
			[]string{"HOME=/root", "PATH=/bin", "B=2", "EMPTY="}},
		{"both", map[string]string{"EMPTY": "", "PATH": "/usr/bin"}, map[string]bool{"HOME": true},
			[]string{"A=1", "B=2", "A=dup", "NOEQUALS", "EMPTY=", "PATH=/usr/bin"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := MergeEnv(base, c.set, c.unset); !slices.Equal(got, c.want) {
				t.Errorf("MergeEnv = %q\nwant %q", got, c.want)
			}
			if !slices.Equal(base, orig) {
				t.Fatalf("MergeEnv modified its input: %q", base)
			}
		})
	}
	if got := MergeEnv(nil, map[string]string{"X": "1"}, nil); !slices.Equal(got, []string{"X=1"}) {
		t.Errorf("MergeEnv(nil, X=1) = %q", got)
	}
}

func TestGetenv(t *testing.T) {
	env := []string{"A=1", "B=", "NOEQUALS", "A=last", "PATHX=no"}
	for name, want := range map[string]string{"A": "last", "B": "", "NOEQUALS": "", "PATH": "", "PATHX": "no", "": ""} {
		if got := Getenv(env, name); got != want {
			t.Errorf("Getenv(%q) = %q, want %q", name, got, want)
		}
	}
}
