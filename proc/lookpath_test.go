package proc

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLookPath runs every case from a temporary working directory laid out
// as
//
//	bin/tool        executable
//	bin/data        not executable
//	bin/dir/        a directory
//	tool            executable, in the working directory
//	sub/bin/tool    executable, below the child's directory "sub"
//	abs/tool        executable, in an absolute PATH entry
//
// and checks the answers Go's exec.LookPath gives where it has one.
func TestLookPath(t *testing.T) {
	d := t.TempDir()
	for name, mode := range map[string]fs.FileMode{
		"bin/tool": 0o755, "bin/data": 0o644, "tool": 0o755, "sub/bin/tool": 0o755, "abs/tool": 0o755,
	} {
		p := filepath.Join(d, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(d, "bin/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(d)
	abs := filepath.Join(d, "abs")
	for _, c := range []struct {
		name, program, path, dir string
		want                     string // the path found, or:
		dot                      *DotError
		notFound                 bool
		pathErr                  bool
	}{
		{name: "absolute entry", program: "tool", path: "/nonexistent:" + abs, want: abs + "/tool"},
		{name: "dot entry", program: "tool", path: ".:" + abs, dot: &DotError{"tool", ".", "./tool"}},
		{name: "empty entry", program: "tool", path: ":" + abs, dot: &DotError{"tool", "", "./tool"}},
		{name: "empty entry last", program: "tool", path: "/nonexistent:", dot: &DotError{"tool", "", "./tool"}},
		{name: "relative dir entry", program: "tool", path: "bin", dot: &DotError{"tool", "bin", "bin/tool"}},
		{name: "dot slash entry", program: "tool", path: "./bin", dot: &DotError{"tool", "./bin", "bin/tool"}},
		{name: "relative entry after the absolute match", program: "tool", path: abs + ":.", want: abs + "/tool"},
		{name: "relative entry without a match is skipped", program: "tool", path: "nothing:" + abs, want: abs + "/tool"},
		{name: "relative entry below the child's directory", program: "tool", path: "bin", dir: "sub", dot: &DotError{"tool", "bin", "bin/tool"}},
		{name: "not executable is skipped", program: "data", path: filepath.Join(d, "bin") + ":.", notFound: true},
		{name: "directory is skipped", program: "dir", path: filepath.Join(d, "bin"), notFound: true},
		{name: "empty PATH", program: "tool", path: "", notFound: true},
		{name: "empty name", program: "", path: abs + ":.", notFound: true},
		{name: "slash: relative to the working directory", program: "./tool", path: "", want: d + "/tool"},
		{name: "slash: relative to dir", program: "bin/tool", path: "", dir: "sub", want: d + "/sub/bin/tool"},
		{name: "slash: not executable", program: "bin/data", path: "", pathErr: true},
		{name: "slash: missing", program: "./missing", path: abs, pathErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := LookPath(c.program, c.path, c.dir)
			var de *DotError
			var pe *fs.PathError
			switch {
			case c.dot != nil:
				if !errors.As(err, &de) || *de != *c.dot || !errors.Is(err, ErrDot) {
					t.Fatalf("LookPath = %q, %v; want a DotError %+v", got, err, *c.dot)
				}
			case c.notFound:
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("LookPath = %q, %v; want ErrNotFound", got, err)
				}
			case c.pathErr:
				if !errors.As(err, &pe) {
					t.Fatalf("LookPath = %q, %v; want an *fs.PathError", got, err)
				}
			default:
				if err != nil || got != c.want {
					t.Fatalf("LookPath = %q, %v; want %q", got, err, c.want)
				}
			}
			// With hazlua's working directory, Go's os/exec agrees.
			if c.dir != "" || c.program == "" || c.pathErr {
				return
			}
			t.Setenv("PATH", c.path)
			gp, gerr := exec.LookPath(c.program)
			if gerr == nil {
				gp, gerr = filepath.Abs(gp)
			}
			switch {
			case c.dot != nil && !errors.Is(gerr, exec.ErrDot):
				t.Errorf("exec.LookPath = %q, %v; want exec.ErrDot", gp, gerr)
			case c.notFound && !errors.Is(gerr, exec.ErrNotFound):
				t.Errorf("exec.LookPath = %q, %v; want exec.ErrNotFound", gp, gerr)
			case c.want != "" && (gerr != nil || gp != c.want):
				t.Errorf("exec.LookPath = %q, %v; want %q", gp, gerr, c.want)
			}
		})
	}
}
