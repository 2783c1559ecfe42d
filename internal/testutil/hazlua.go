// Package testutil builds the hazlua binary for tests that run it as users
// do, and makes the file fixtures several packages' tests share.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// MainWithHazlua builds hazlua into a temporary directory (with -race when
// the test binary has it), stores its path in *bin, runs the tests and
// exits. Call it from TestMain.
func MainWithHazlua(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "hazlua-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	*bin = filepath.Join(dir, "hazlua")
	args := []string{"build", "-o", *bin}
	if RaceEnabled() {
		args = append(args, "-race")
	}
	args = append(args, "github.com/hazlua/hazlua")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go %s: %v\n%s", strings.Join(args, " "), err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// RaceEnabled reports whether the test binary was built with -race, so the
// hazlua binary it builds is too.
func RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// GoraceEnv is GORACE for a hazlua under test: a binary built with -race
// sleeps a second when it exits with status 0, unless told not to.
func GoraceEnv() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}
