package runner

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name string
		task *Task
		want string
	}{
		{"empty name", &Task{Pos: "build.lua:3"}, "build.lua:3: task name is empty"},
		{"duplicate", &Task{Name: "a", Pos: "build.lua:9"}, `build.lua:9: task "a" already declared at build.lua:1`},
		{"negative timeout", &Task{Name: "b", Pos: "build.lua:4", Timeout: -time.Second}, `build.lua:4: task "b": negative timeout -1s`},
		{"empty dep", &Task{Name: "c", Pos: "build.lua:5", Deps: []string{""}}, `build.lua:5: task "c": empty dependency name`},
		{"nil", nil, "nil task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, &Task{Name: "a", Pos: "build.lua:1"})
			err := g.Add(tt.task)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Add: %v, want %q", err, tt.want)
			}
			var ge *GraphError
			if !errors.As(err, &ge) || ge.Kind != BadDeclaration {
				t.Errorf("error %T is not a *GraphError of kind %v", err, BadDeclaration)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	g := NewGraph()
	for _, tt := range []struct {
		tag  string
		n    int
		want string
	}{
		{"net", 0, `limit "net": 0 is not at least 1`},
		{"", 1, "limit: empty tag"},
		{"net", 2, ""},
		{"net", 3, `limit "net": already set to 2`},
	} {
		err := g.Limit(tt.tag, tt.n)
		got := ""
		if err != nil {
			got = err.Error()
			if ge := (*GraphError)(nil); !errors.As(err, &ge) || ge.Kind != BadDeclaration {
				t.Errorf("Limit(%q, %d): error %T is not a *GraphError of kind %v", tt.tag, tt.n, err, BadDeclaration)
			}
		}
		if got != tt.want {
			t.Errorf("Limit(%q, %d) = %q, want %q", tt.tag, tt.n, got, tt.want)
		}
	}
	if n, ok := g.LimitOf("net"); !ok || n != 2 {
		t.Errorf("LimitOf(net) = %d, %v", n, ok)
	}
}

func TestGraphAccessors(t *testing.T) {
	g := newGraph(t, ok("b"), ok("a"))
	if !g.Has("a") || g.Has("c") {
		t.Error("Has is wrong")
	}
	if got := names(g.Tasks()); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("Tasks() = %v, want declaration order", got)
	}
	if g.Task("a") == nil || g.Task("c") != nil || g.Len() != 2 {
		t.Error("Task/Len are wrong")
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name    string
		tasks   []*Task
		targets []string
		want    string
	}{
		{
			name:    "unknown target with suggestion",
			tasks:   []*Task{ok("build"), ok("test")},
			targets: []string{"biuld"},
			want:    `unknown task "biuld" (did you mean "build"?)`,
		},
		{
			name:    "unknown target without suggestion",
			tasks:   []*Task{ok("build")},
			targets: []string{"deploy"},
			want:    `unknown task "deploy"`,
		},
		{
			name: "unknown dependency with suggestion",
			tasks: []*Task{
				{Name: "generate", Run: ok("").Run},
				{Name: "compile", Pos: "build.lua:12", Deps: []string{"genrate"}},
			},
			targets: []string{"compile"},
			want:    `build.lua:12: task "compile": unknown dependency "genrate" (did you mean "generate"?)`,
		},
		{
			name:    "unknown dependency in an unplanned task",
			tasks:   []*Task{ok("a"), {Name: "b", Pos: "build.lua:2", Deps: []string{"zzz"}}},
			targets: []string{"a"},
			want:    `build.lua:2: task "b": unknown dependency "zzz"`,
		},
		{
			name:    "dependency never suggests the task itself",
			tasks:   []*Task{{Name: "gen", Pos: "b.lua:1", Deps: []string{"gne"}}},
			targets: []string{"gen"},
			want:    `b.lua:1: task "gen": unknown dependency "gne"`,
		},
		{
			name: "cycle of three",
			tasks: []*Task{
				{Name: "a", Pos: "build.lua:1", Deps: []string{"b"}},
				{Name: "b", Pos: "build.lua:2", Deps: []string{"c"}},
				{Name: "c", Pos: "build.lua:3", Deps: []string{"a"}},
			},
			targets: []string{"a"},
			want:    "build.lua:1: dependency cycle: a → b → c → a",
		},
		{
			name: "cycle starts at its earliest declared task",
			tasks: []*Task{
				{Name: "top", Pos: "build.lua:1", Deps: []string{"y"}},
				{Name: "x", Pos: "build.lua:2", Deps: []string{"y"}},
				{Name: "y", Pos: "build.lua:3", Deps: []string{"x"}},
			},
			targets: []string{"top"},
			want:    "build.lua:2: dependency cycle: x → y → x",
		},
		{
			name:    "self dependency",
			tasks:   []*Task{{Name: "a", Pos: "build.lua:7", Deps: []string{"a"}}},
			targets: []string{"a"},
			want:    "build.lua:7: dependency cycle: a → a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, tt.tasks...)
			p, err := g.Plan(tt.targets)
			if err == nil {
				t.Fatalf("Plan succeeded with %v", names(p.Tasks()))
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err, tt.want)
			}
			wantKind := UnknownTask
			if strings.Contains(tt.want, "dependency cycle") {
				wantKind = DependencyCycle
			}
			var ge *GraphError
			if !errors.As(err, &ge) || ge.Kind != wantKind {
				t.Errorf("error %T is not a *GraphError of kind %v", err, wantKind)
			}
			verr := g.Validate()
			if strings.HasPrefix(tt.want, "unknown task") {
				if verr != nil {
					t.Errorf("Validate: %v, want nil (the graph is fine)", verr)
				}
			} else if verr == nil || verr.Error() != tt.want {
				t.Errorf("Validate: %v, want %q", verr, tt.want)
			}
		})
	}
}

func TestPlanOrder(t *testing.T) {
	decl := func() []*Task {
		return []*Task{
			ok("gen"),
			ok("lib"),
			ok("app", "lib", "gen"),
			ok("test", "app"),
			ok("docs"),
			agg("default", "app", "docs"),
		}
	}
	tests := []struct {
		targets []string
		want    []string
	}{
		{[]string{"docs", "test"}, []string{"docs", "gen", "lib", "app", "test"}},
		{[]string{"test", "docs"}, []string{"docs", "gen", "lib", "app", "test"}},
		{[]string{"default"}, []string{"gen", "lib", "app", "docs", "default"}},
		{[]string{"lib", "gen", "lib"}, []string{"lib", "gen"}},
		{nil, nil},
	}
	for _, tt := range tests {
		t.Run(fmtList(tt.targets), func(t *testing.T) {
			p := mustPlan(t, newGraph(t, decl()...), tt.targets...)
			if got := names(p.Tasks()); !slices.Equal(got, tt.want) {
				t.Errorf("plan order %v, want %v", got, tt.want)
			}
		})
	}
}
