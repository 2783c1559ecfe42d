package main

import (
	"errors"
	"fmt"
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

// goBuild runs `go build -o out pkg` in root and returns "" or the first
// meaningful line of its output.
func goBuild(root, out, pkg string) string {
	fmt.Fprintf(os.Stderr, "bench: go build -o %s %s\n", out, pkg)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
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
