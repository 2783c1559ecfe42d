package glob

// FuzzGlob checks Expand against an independent reference matcher. `go test
// ./internal/glob` runs it on its seed corpus (testdata/fuzz/FuzzGlob and the
// f.Add calls); a longer run is
//
//	go test -run '^$' -fuzz '^FuzzGlob$' -fuzztime 30s ./internal/glob
//
// A crasher the fuzzer finds is written to testdata/fuzz/FuzzGlob/ and from
// then on runs with the seeds.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzTree makes the fixed tree FuzzGlob matches against: files with
// wildcard characters, spaces and non-ASCII in their names, hidden files
// and directories, a symlink to a directory, a symlink loop and a dangling
// symlink.
func fuzzTree(tb testing.TB) string {
	tb.Helper()
	d := tb.TempDir()
	files := []string{
		"a.c", "b.h", "a b.txt", "*", "[x]", "{a,b}", "é.go", "back\\slash", "-dash",
		".hidden", ".git/config", ".git/objects/x",
		"src/a.c", "src/b.c", "src/.d.c", "src/sub/c.c", "src/sub/deep/d.c", "src/sub/deep/.e.c",
		"docs/r.md", "docs/.drafts/x.md", "empty/.keep",
	}
	for _, name := range files {
		p := filepath.Join(d, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(d, "emptydir"), 0o755); err != nil {
		tb.Fatal(err)
	}
	for link, target := range map[string]string{
		"linkdir": "src", "src/sub/loop": "..", "dangling": "nowhere", "src/lf.c": "a.c",
	} {
		if err := os.Symlink(target, filepath.Join(d, link)); err != nil {
			tb.Fatal(err)
		}
	}
	return d
}

// walkTree lists every path below dir without following symlinks
// (symlinks themselves included), relative to dir, as Expand would
// name them.
func walkTree(tb testing.TB, dir string) []string {
	tb.Helper()
	var all []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			all = append(all, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return all
}

// reference is an independent reference for one brace-free pattern: does
// path (an existing path, "/"-separated, relative) match it under the rules of
// the package doc? It follows the file system as the spec says: wildcards and ** do
// not enter a symlinked directory, a literal segment does.
func reference(pattern, path string) bool {
	var segs []string
	for s := range strings.SplitSeq(pattern, "/") {
		if s == "" || s == "." || s == "**" && len(segs) > 0 && segs[len(segs)-1] == "**" {
			continue
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return path == "."
	}
	names := strings.Split(path, "/")
	if strings.HasSuffix(pattern, "/") {
		if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
			return false
		}
	}
	// realDir: the first n names lead to a directory that is not a symlink.
	realDir := func(n int) bool {
		fi, err := os.Lstat(strings.Join(names[:n], "/"))
		return err == nil && fi.IsDir()
	}
	anyDir := func(n int) bool {
		fi, err := os.Stat(strings.Join(names[:n], "/"))
		return err == nil && fi.IsDir()
	}
	var match func(pi, ni int) bool
	match = func(pi, ni int) bool {
		if pi == len(segs) {
			return ni == len(names)
		}
		seg := segs[pi]
		if seg == "**" {
			if match(pi+1, ni) {
				return true
			}
			// ** crosses one more name: never a hidden one, and a real
			// directory unless it is the last name matched by a final **.
			if ni == len(names) || names[ni][0] == '.' {
				return false
			}
			if !(pi == len(segs)-1 && ni == len(names)-1) && !realDir(ni+1) {
				return false
			}
			return match(pi, ni+1)
		}
		if ni == len(names) {
			return false
		}
		name := names[ni]
		if ok, err := filepath.Match(seg, name); err != nil || !ok {
			return false
		}
		// A name followed by more segments must be a directory: a real one
		// for a wildcard, any (a symlink to one too) for a literal.
		more := pi < len(segs)-1
		if hasWildcard(seg) {
			if name[0] == '.' && seg[0] != '.' {
				return false
			}
			if more && !realDir(ni+1) {
				return false
			}
		} else if more && !anyDir(ni+1) {
			return false
		}
		return match(pi+1, ni+1)
	}
	return match(0, 0)
}

// hasWildcard reports whether a segment has an unescaped *, ? or [.
func hasWildcard(seg string) bool {
	for i := 0; i < len(seg); i++ {
		switch seg[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// FuzzGlob matches fuzzed patterns against a fixed tree. For any
// pattern Expand returns a pattern error or a sorted list of distinct,
// existing paths; every path matches the pattern by an independent
// reference matcher (reference), and every path of the tree (walked without
// following symlinks) that the reference matches is in the list. A pattern
// it accepts is one path/filepath.Match accepts too. Absolute patterns and
// ".." are skipped: they would walk outside the tree.
func FuzzGlob(f *testing.F) {
	for _, p := range []string{
		"*", "**", "**/*.c", "src/**", "src/**/", "*/", ".*", "**/.*", "{src,docs}/*", "{a,{b,c}}.?",
		"[a-c].c", "[^a].c", "\\*", "\\[x]", "\\{a,b}", "linkdir/*.c", "*/*.c", "**/d.c", "src/sub/loop/**/c.c",
		"a b.txt", "é*", "back\\\\slash", "[", "{", "}", "a\\", "[]]", "[a-]", "{,}", ".", "./src/./a.c",
		"**/**/*", "*/**/.keep", "emptydir/**", "dangling", "dangling/", "src/*/", ".git/**",
	} {
		f.Add(p)
	}
	// Each input changes to the tree and back: a fuzzing worker starts
	// in the working directory of the process that runs this function.
	d := fuzzTree(f)
	walked := walkTree(f, d)
	f.Fuzz(func(t *testing.T, pattern string) {
		if len(pattern) > 256 {
			return
		}
		t.Chdir(d)
		alts, berr := expandBraces(pattern)
		for _, alt := range alts {
			segs, _, abs, err := compile(alt)
			if abs {
				return
			}
			for _, s := range segs {
				if err == nil && (s.lit == ".." || s.lit == ".") {
					return
				}
			}
		}
		got, err := Expand([]string{pattern})
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("Expand(%q): error %v is not a *PatternError", pattern, err)
			}
			return
		}
		if berr != nil || pattern == "" {
			t.Fatalf("Expand(%q) accepted a pattern expandBraces rejects (%v)", pattern, berr)
		}
		for _, alt := range alts {
			for s := range strings.SplitSeq(alt, "/") {
				if _, err := filepath.Match(s, "x"); err != nil {
					t.Fatalf("Expand(%q) accepted segment %q, which path/filepath.Match calls malformed", pattern, s)
				}
			}
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("Expand(%q) = %q: not sorted and distinct", pattern, got)
		}
		refMatch := func(p string) bool {
			for _, alt := range alts {
				if reference(alt, p) {
					return true
				}
			}
			return false
		}
		for _, p := range got {
			if _, err := os.Lstat(p); err != nil {
				t.Fatalf("Expand(%q) returned %q, which does not exist: %v", pattern, p, err)
			}
			if p != "." && (filepath.IsAbs(p) || filepath.Clean(p) != p) {
				t.Fatalf("Expand(%q) returned %q, not a clean relative path", pattern, p)
			}
			if !refMatch(p) {
				t.Fatalf("Expand(%q) returned %q, which the reference says does not match", pattern, p)
			}
		}
		for _, p := range walked {
			if refMatch(p) && !slices.Contains(got, p) {
				t.Fatalf("Expand(%q) = %q, missing %q, which the reference matches", pattern, got, p)
			}
			// Match decides without the file system what Expand found
			// (a trailing "/" needs the file system: skipped), except
			// that a trailing "**" also matches its prefix, which Expand
			// returns only when it is a directory.
			if slices.ContainsFunc(alts, func(a string) bool { return strings.HasSuffix(a, "/") }) {
				continue
			}
			if m := Match(pattern, p); m != slices.Contains(got, p) && !(m && trailingStarStar(alts) && !isDir(p)) {
				t.Fatalf("Match(%q, %q) = %v, but Expand returned %q", pattern, p, m, got)
			}
		}
	})
}

// trailingStarStar reports whether a brace alternative's last segment is
// "**".
func trailingStarStar(alts []string) bool {
	return slices.ContainsFunc(alts, func(a string) bool {
		segs, _, _, err := compile(a)
		return err == nil && len(segs) > 0 && segs[len(segs)-1].kind == segStarStar
	})
}

// isDir reports whether p is a directory, not a symlink to one (wildcards
// do not descend into those).
func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// FuzzLiteral: Literal's fast path for clean patterns agrees with the
// compiled segments.
func FuzzLiteral(f *testing.F) {
	for _, p := range []string{"a", "a/b", "./a", "a//b", "a/./b", "a/", "/", ".", "/a/b", "a/..", `a\*`, "a*", "{a}", "a/."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, ok := Literal(p)
		segs, _, abs, err := compile(p)
		want, wantOK := "", err == nil && !strings.Contains(p, "{")
		var parts []string
		for _, s := range segs {
			if s.kind != segLiteral {
				wantOK = false
			}
			parts = append(parts, s.lit)
		}
		if wantOK {
			want = strings.Join(parts, "/")
			if abs {
				want = "/" + want
			}
			if want == "" {
				want = "."
			}
		}
		if ok != wantOK || got != want {
			t.Fatalf("Literal(%q) = %q, %v; the compiled segments say %q, %v", p, got, ok, want, wantOK)
		}
	})
}
