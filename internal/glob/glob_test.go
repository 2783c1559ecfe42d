package glob

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree makes the files (each holding its own name) and symlinks
// (link -> target) below dir.
func writeTree(t *testing.T, dir string, files []string, links map[string]string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExpand changes directory (so it is not parallel) into a tree with
// dotfiles and symlinks.
func TestExpand(t *testing.T) {
	d := t.TempDir()
	writeTree(t, d, []string{
		"README.md", "src/a.c", "src/b.h", "src/sub/c.c", "src/sub/deep/d.c",
		"src/.hidden/e.c", "src/.f.c", ".top/g.c", `odd/we*ird`, "odd/weXird",
	}, map[string]string{"linkdir": "src", "src/sub/loop": "..", "src/lf.c": "a.c"})
	t.Chdir(d)
	for _, c := range []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"star", []string{"src/*.c"}, []string{"src/a.c", "src/lf.c"}},
		{"star skips dotfiles", []string{"src/*"}, []string{"src/a.c", "src/b.h", "src/lf.c", "src/sub"}},
		{"doublestar", []string{"**/*.c"}, []string{"src/a.c", "src/lf.c", "src/sub/c.c", "src/sub/deep/d.c"}},
		{"doublestar zero dirs", []string{"src/**/*.c"}, []string{"src/a.c", "src/lf.c", "src/sub/c.c", "src/sub/deep/d.c"}},
		{"doublestar middle", []string{"**/deep/*.c", "src/**/c.c"}, []string{"src/sub/c.c", "src/sub/deep/d.c"}},
		{"trailing doublestar", []string{"src/sub/**"},
			[]string{"src/sub", "src/sub/c.c", "src/sub/deep", "src/sub/deep/d.c", "src/sub/loop"}},
		{"dot pattern", []string{"src/.*"}, []string{"src/.f.c", "src/.hidden"}},
		{"dot dir segment", []string{"src/.*/*.c", ".top/*"}, []string{".top/g.c", "src/.hidden/e.c"}},
		{"doublestar dot", []string{"**/.*"}, []string{".top", "src/.f.c", "src/.hidden"}},
		{"literal symlink followed", []string{"linkdir/*.c"}, []string{"linkdir/a.c", "linkdir/lf.c"}},
		{"wildcard symlink not followed", []string{"*/*.c"}, []string{"src/a.c", "src/lf.c"}},
		{"doublestar symlink not followed", []string{"**/d.c"}, []string{"src/sub/deep/d.c"}},
		{"sorted and deduplicated", []string{"src/lf.c", "src/*.c", "**/a.c", "src/a.c"}, []string{"src/a.c", "src/lf.c"}},
		{"braces", []string{"src/*.{c,h}", "{README,nope}.md"}, []string{"README.md", "src/a.c", "src/b.h", "src/lf.c"}},
		{"braces with slash", []string{"{src/sub,.top}/*.c"}, []string{".top/g.c", "src/sub/c.c"}},
		{"class", []string{"src/[ab].*"}, []string{"src/a.c", "src/b.h"}},
		{"escape", []string{`odd/we\*ird`}, []string{"odd/we*ird"}},
		{"directories only", []string{"src/*/", "*/"}, []string{"linkdir", "odd", "src", "src/sub"}},
		{"dot slash", []string{"./src/../src/a.c", "./README.md"}, []string{"README.md", "src/../src/a.c"}},
		{"dot", []string{"."}, []string{"."}},
		{"absolute", []string{d + "/src/*.h"}, []string{d + "/src/b.h"}},
		{"no match", []string{"nothing/*", "none"}, []string{}},
		{"no patterns", nil, []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Expand(c.patterns)
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("Expand(%q) = %q, %v; want %q", c.patterns, got, err, c.want)
			}
		})
	}
}

// TestPatternErrors checks that Expand and Check reject the same patterns
// with the same *PatternError, naming the pattern as given.
func TestPatternErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, c := range []struct{ pattern, want string }{
		{"src/[a", `bad pattern "src/[a": malformed character class`},
		{"x*[", `bad pattern "x*[": malformed character class`},
		{"[a-]", `bad pattern "[a-]": malformed character range`},
		{`a\`, `bad pattern "a\\": trailing backslash`},
		{"{a,b", `bad pattern "{a,b": unmatched "{"`},
		{"{a,[}", `bad pattern "{a,[}": malformed character class`},
		{"", `bad pattern "": empty pattern`},
		{strings.Repeat("{a,b}", 13), `bad pattern "` + strings.Repeat("{a,b}", 13) + `": too many {} alternatives`},
	} {
		t.Run(c.pattern, func(t *testing.T) {
			patterns := []string{"ok/*", c.pattern, "[also bad"}
			for name, err := range map[string]error{
				"Check":  Check(patterns),
				"Expand": func() error { _, err := Expand(patterns); return err }(),
			} {
				var pe *PatternError
				if !errors.As(err, &pe) || pe.Pattern != c.pattern || err.Error() != c.want {
					t.Errorf("%s(%q) = %v; want %q (a *PatternError)", name, patterns, err, c.want)
				}
			}
		})
	}
	if err := Check([]string{"**/*.{c,h}", `\{`, "}", "[[]"}); err != nil {
		t.Errorf("Check of good patterns: %v", err)
	}
}

func TestExpandBraces(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"a", "a"},
		{"{a,b}", "a b"},
		{"x{a,b}y{1,2}", "xay1 xay2 xby1 xby2"},
		{"{a,{b,c}d}", "a bd cd"},
		{"{,x}.c", ".c x.c"},
		{"{a}", "a"},
		{`\{a,b}`, `\{a,b}`},
		{`a}{b,c}`, `a}b a}c`},
		{"[{]{a,b}", "[{]a [{]b"},
	} {
		got, err := expandBraces(c.in)
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("expandBraces(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{strings.Repeat("{a,b}", 13), "{a,b", "x{{a}", `{a\}`} {
		if got, err := expandBraces(bad); err == nil {
			t.Errorf("expandBraces(%q) = %d alternatives, no error", bad, len(got))
		}
	}
}

func TestMatchAndLiteral(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"src/*.c", "src/a.c", true},
		{"src/*.c", "src/sub/a.c", false},
		{"src/*.c", "src/.a.c", false},
		{"src/.*", "src/.a.c", true},
		{"**/*.o", "a.o", true},
		{"**/*.o", "x/y/a.o", true},
		{"**/*.o", "x/.y/a.o", false},
		{"build/**", "build", true},
		{"build/**", "build/x/y", true},
		{"**", "", false},
		{"{a,b}/c", "b/c", true},
		{"./out//app", "out/app", true},
		{"out/app", "out/app2", false},
		{"[", "[", false},
		{"/abs/*", "/abs/x", true},
		{"/abs/*", "abs/x", false},
	} {
		if got := Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		pattern, lit string
		ok           bool
	}{
		{"out/app", "out/app", true},
		{"./out//app/", "out/app", true},
		{`we\*ird`, "we*ird", true},
		{"out/*.o", "", false},
		{"{a,b}", "", false},
		{"/abs/x", "/abs/x", true},
	} {
		lit, ok := Literal(c.pattern)
		if lit != c.lit || ok != c.ok {
			t.Errorf("Literal(%q) = %q, %v; want %q, %v", c.pattern, lit, ok, c.lit, c.ok)
		}
	}
}

func TestBases(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		want    []Base
	}{
		{"src/a.c", []Base{{Dir: "src", Literal: "src/a.c"}}},
		{"a.c", []Base{{Dir: ".", Literal: "a.c"}}},
		{"*.c", []Base{{Dir: "."}}},
		{"src/*.c", []Base{{Dir: "src"}}},
		{"src/**/*.c", []Base{{Dir: "src", Deep: true}}},
		{"src/**", []Base{{Dir: "src", Deep: true}}},
		{"src/*/x.c", []Base{{Dir: "src", Deep: true}}},
		{"./src//lib/*.go", []Base{{Dir: "src/lib"}}},
		{"{a,b/c}/*.h", []Base{{Dir: "a"}, {Dir: "b/c"}}},
		{"/usr/include/*.h", []Base{{Dir: "/usr/include"}}},
		{".", []Base{{Dir: ".", Deep: true, Literal: "."}}},
		{"x[", nil},
	} {
		if got := Bases(tt.pattern); !slices.Equal(got, tt.want) {
			t.Errorf("Bases(%q) = %+v, want %+v", tt.pattern, got, tt.want)
		}
	}
}
