package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// go-task is the task runner the tasks group compares against, pinned.
const (
	goTaskModule  = "github.com/go-task/task/v3/cmd/task"
	goTaskVersion = "v3.54.0"
)

// ensureGoTask returns the path of a go-task of goTaskVersion: `task` on
// PATH, or in the Go bin directory ($GOBIN, else the first entry of
// $(go env GOPATH) + /bin), installing it there with `go install` when
// neither is that version. It returns "" when it cannot.
func ensureGoTask() string {
	binDir := goBinDir()
	var candidates []string
	if p, err := exec.LookPath("task"); err == nil {
		candidates = append(candidates, p)
	}
	if binDir != "" {
		candidates = append(candidates, filepath.Join(binDir, "task"))
	}
	for _, c := range candidates {
		if isGoTask(c) {
			return c
		}
	}
	if binDir == "" {
		fmt.Fprintln(os.Stderr, "bench: cannot tell the Go bin directory (go env GOBIN GOPATH); go-task variants are reported as errors")
		return ""
	}
	argv := []string{"go", "install", goTaskModule + "@" + goTaskVersion}
	fmt.Fprintf(os.Stderr, "bench: go-task %s not found; running: GOBIN=%s %s\n", goTaskVersion, binDir, strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "GOBIN="+binDir)
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: go install failed: %v; go-task variants are reported as errors\n", err)
		return ""
	}
	if p := filepath.Join(binDir, "task"); isGoTask(p) {
		fmt.Fprintf(os.Stderr, "bench: installed %s\n", p)
		return p
	}
	fmt.Fprintf(os.Stderr, "bench: %s/task is not go-task %s after go install\n", binDir, goTaskVersion)
	return ""
}

// isGoTask reports whether path runs and says it is goTaskVersion (go-task
// prints "3.54.0"; another program called task prints something else).
func isGoTask(path string) bool {
	v := firstLine(commandOutput(path, "--version"))
	return strings.Contains(v, strings.TrimPrefix(goTaskVersion, "v"))
}

// goBinDir is where go install puts binaries: $GOBIN or GOPATH's first
// entry + /bin.
func goBinDir() string {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		return strings.TrimSpace(lines[0])
	}
	if len(lines) > 1 {
		if first, _, _ := strings.Cut(strings.TrimSpace(lines[1]), string(os.PathListSeparator)); first != "" {
			return filepath.Join(first, "bin")
		}
	}
	return ""
}
