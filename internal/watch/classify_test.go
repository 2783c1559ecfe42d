package watch

import (
	"maps"
	"slices"
	"testing"
)

func graph() *Set {
	return NewSet([]Task{
		{Name: "gen", Inputs: []string{"gen/*.in"}, Outputs: []string{"src/gen.h"}},
		{Name: "compile", Deps: []string{"gen"}, Inputs: []string{"src/**/*.c", "src/*.h"}, Files: []string{"src/a.c", "src/sub/b.c", "src/gen.h"}, Outputs: []string{"build/*.o"}},
		{Name: "link", Deps: []string{"compile"}, Inputs: []string{}, Outputs: []string{"build/app"}},
		{Name: "docs", Inputs: []string{"README.md", "doc"}, Outputs: []string{"site/**"}},
		{Name: "test", Deps: []string{"link"}},
		{Name: "all", Deps: []string{"test", "docs"}},
	}, []string{"build.lua", "lib/util.lua"})
}

func TestClassify(t *testing.T) {
	s := graph()
	for _, tt := range []struct {
		name   string
		paths  []string
		tasks  []string
		dirty  []string
		script bool
		counts []string
	}{
		{"a source", []string{"src/a.c"}, []string{"compile"}, []string{"all", "compile", "link", "test"}, false, []string{"src/a.c"}},
		{"a new source deep down", []string{"src/x/y/z.c"}, []string{"compile"}, []string{"all", "compile", "link", "test"}, false, []string{"src/x/y/z.c"}},
		{"a generator input", []string{"gen/a.in"}, []string{"gen"}, []string{"all", "compile", "gen", "link", "test"}, false, []string{"gen/a.in"}},
		{"an output is ignored, though compile reads it", []string{"src/gen.h", "build/a.o", "build/app", "site/index.html"}, nil, nil, false, nil},
		{"state and git are ignored", []string{".haz/state", ".git/index", ".git"}, nil, nil, false, nil},
		{"an unrelated file", []string{"notes.txt", "src/a.txt"}, nil, nil, false, nil},
		{"a literal directory input holds its tree", []string{"doc/x/y.png"}, []string{"docs"}, []string{"all", "docs"}, false, []string{"doc/x/y.png"}},
		{"a removed directory holding inputs", []string{"src/sub"}, []string{"compile"}, []string{"all", "compile", "link", "test"}, false, []string{"src/sub"}},
		{"the script", []string{"build.lua"}, nil, nil, true, []string{"build.lua"}},
		{"a required file", []string{"lib/util.lua", "lib/other.lua"}, nil, nil, true, []string{"lib/util.lua"}},
		{"everything", []string{"."}, []string{"compile"}, []string{"all", "compile", "link", "test"}, true, []string{"."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := s.Classify(tt.paths)
			if !slices.Equal(c.Tasks, tt.tasks) {
				t.Errorf("Tasks = %v, want %v", c.Tasks, tt.tasks)
			}
			if got := slices.Sorted(maps.Keys(c.Dirty)); !slices.Equal(got, tt.dirty) {
				t.Errorf("Dirty = %v, want %v", got, tt.dirty)
			}
			if c.Script != tt.script {
				t.Errorf("Script = %v, want %v", c.Script, tt.script)
			}
			if !slices.Equal(c.Paths, tt.counts) {
				t.Errorf("Paths = %v, want %v", c.Paths, tt.counts)
			}
			if c.Empty() != (len(tt.tasks) == 0 && !tt.script) {
				t.Errorf("Empty = %v", c.Empty())
			}
		})
	}
}

func TestDirs(t *testing.T) {
	s := graph()
	isDir := func(p string) bool { return p == "doc" }
	got := s.Dirs(isDir)
	want := []Dir{{".", false}, {"doc", true}, {"gen", false}, {"lib", false}, {"src", true}}
	if !slices.Equal(got, want) {
		t.Errorf("Dirs = %v, want %v", got, want)
	}
}
