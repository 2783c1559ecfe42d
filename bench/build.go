package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// binaries are the programs built for the run. hazluaErr is set instead of
// failing the run when hazlua does not build.
type binaries struct {
	hazlua    string
	hazluaErr string
	prebuilt  bool // hazlua was given with -hazlua, not built here
	barelua   string
	execloop  string
}

// findModuleRoot walks up from the working directory to the directory that
// holds go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or its parents; run from inside the hazlua module")
		}
		dir = parent
	}
}

// buildBinaries builds hazlua and the Go anchors into dir. The anchors must
// build; hazlua may fail (it is being written), which is recorded. A
// non-empty prebuilt names a hazlua binary to use instead of building one.
func buildBinaries(root, dir, prebuilt string) (binaries, error) {
	b := binaries{
		hazlua:   filepath.Join(dir, "hazlua"),
		barelua:  filepath.Join(dir, "barelua"),
		execloop: filepath.Join(dir, "execloop"),
	}
	for _, a := range []struct{ out, pkg string }{{b.barelua, "./bench/barelua"}, {b.execloop, "./bench/execloop"}} {
		if msg := goBuild(root, a.out, a.pkg); msg != "" {
			return b, fmt.Errorf("building %s: %s", a.pkg, msg)
		}
	}
	if prebuilt != "" {
		abs, err := filepath.Abs(prebuilt)
		if err != nil {
			return b, err
		}
		b.hazlua = abs
		b.prebuilt = true
		if _, err := os.Stat(abs); err != nil {
			b.hazluaErr = "error: " + err.Error()
		}
		return b, nil
	}
	if msg := goBuild(root, b.hazlua, "."); msg != "" {
		b.hazluaErr = "error: go build failed: " + msg
		fmt.Fprintf(os.Stderr, "bench: hazlua does not build; its variants are reported as errors: %s\n", msg)
	}
	return b, nil
}

// goBuild runs `CGO_ENABLED=0 go build -o out pkg` in root and returns ""
// or the first meaningful line of its output. Without cgo the binaries are
// statically linked: a dynamically linked hazlua pays about 1 ms of dynamic
// loading at every start, which is not hazlua's own cost.
func goBuild(root, out, pkg string) string {
	fmt.Fprintf(os.Stderr, "bench: CGO_ENABLED=0 go build -o %s %s\n", out, pkg)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	output, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	for _, line := range strings.Split(string(output), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return err.Error()
}

// linkage says how an ELF binary is linked: "statically linked" when it has
// no program interpreter, "dynamically linked (INTERP)" when it has one.
func linkage(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp, _ := io.ReadAll(p.Open())
			return "dynamically linked (" + strings.TrimRight(string(interp), "\x00") + ")"
		}
	}
	return "statically linked"
}

// sourceState describes the hazlua source that was built: the commit and how
// many files outside bench/ and docs/ differ from it (others may be editing
// the tree while the benchmarks run).
func sourceState(root string) string {
	head, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	s := "commit " + strings.TrimSpace(string(head))
	out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", ".", ":!bench", ":!docs").Output()
	if changed := strings.TrimRight(string(out), "\n"); err == nil && changed != "" {
		s += fmt.Sprintf(" with %d uncommitted file(s) outside bench/ and docs/", strings.Count(changed, "\n")+1)
	}
	return s
}
