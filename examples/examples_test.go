// Package examples_test runs every example script through the hazlua
// binary and compares its output with testdata/NAME.golden.
package examples_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// hazluaBin is the hazlua binary built by TestMain.
var hazluaBin string

// jobsFlag is the -j every example runs with, so that output that depends
// on it (parallel.lua) is the same on every machine.
const jobsFlag = "-j2"

func TestMain(m *testing.M) {
	flag.Parse()
	testutil.MainWithHazlua(m, &hazluaBin)
}

func TestExamples(t *testing.T) {
	scripts, err := filepath.Glob("*.lua")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"capture.lua", "parallel.lua", "pipeline.lua"} {
		found := false
		for _, s := range scripts {
			found = found || s == want
		}
		if !found {
			t.Errorf("examples/%s is missing", want)
		}
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(script, ".lua")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkHeader(t, script)
			stdout := runExample(t, script)
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if t.Failed() {
					t.Fatalf("not rewriting %s: the run failed", golden)
				}
				if err := os.WriteFile(golden, []byte(stdout), 0o666); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./examples -update to create it)", err)
			}
			if stdout != string(want) {
				t.Errorf("hazlua %s %s: stdout differs from %s\ngot:\n%s\nwant:\n%s", jobsFlag, script, golden, stdout, want)
			}
		})
	}
}

// checkHeader checks that an example starts with a comment saying what it
// shows and how to run it.
func checkHeader(t *testing.T, script string) {
	t.Helper()
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "-- "+script+": ") {
		t.Errorf("%s does not start with a header comment %q", script, "-- "+script+": ...")
	}
	if !strings.Contains(text, "hazlua ") || !strings.Contains(text, "examples/"+script) {
		t.Errorf("%s's header does not say how to run it (hazlua examples/%s)", script, script)
	}
}

// TestBuildSecondRunDoesNothing: build.lua's default task, run a second
// time, runs nothing and prints nothing; with its build directory
// deleted, everything comes back from the cache and still no compiler
// runs.
func TestBuildSecondRunDoesNothing(t *testing.T) {
	t.Parallel()
	dir := copyExamples(t)
	runIn(t, dir, "build.lua")
	explained := func(want string) {
		t.Helper()
		stdout, stderr := runIn(t, dir, "--explain", "build.lua")
		if stdout != "" {
			t.Errorf("stdout:\n%s", stdout)
		}
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			what, ok := strings.CutPrefix(line, "hazlua: explain: ")
			if !ok {
				continue
			}
			n++
			if _, why, _ := strings.Cut(what, ": "); !strings.HasPrefix(why, want) {
				t.Errorf("%s, want %q", line, want)
			}
		}
		if n != 8 {
			t.Errorf("%d explain lines, want 8 (the tasks with a body):\n%s", n, stderr)
		}
	}
	explained("up to date")
	if err := os.RemoveAll(filepath.Join(dir, "cproject", "build")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := runIn(t, dir, "--explain", "build.lua")
	if strings.Contains(stderr, "will run") || stdout != "" {
		t.Errorf("after deleting the build directory:\n%s\n%s", stdout, stderr)
	}
	explained("up to date")
}

// runExample runs hazlua -j2 -q SCRIPT in a copy of the examples
// directory (examples such as build.lua write files) and returns its
// stdout; the run must succeed, with nothing on stderr (-q: no summary).
func runExample(t *testing.T, script string) string {
	t.Helper()
	stdout, stderr := runIn(t, copyExamples(t), "-q", script)
	if stderr != "" {
		t.Errorf("hazlua %s wrote to stderr:\n%s", script, stderr)
	}
	return stdout
}

// copyExamples copies the examples directory into a temporary one, as
// the repository has it: without what running build.lua here leaves
// behind (README's getting started runs it), its state and cache (.haz)
// and its build directory, which would make the copy up to date.
func copyExamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(".")); err != nil {
		t.Fatal(err)
	}
	for _, left := range []string{".haz", filepath.Join("cproject", "build")} {
		if err := os.RemoveAll(filepath.Join(dir, left)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runIn runs hazlua -j2 args in dir and returns its stdout and stderr;
// the run must succeed, and stderr show no Go trace.
func runIn(t *testing.T, dir string, args ...string) (stdout, stderr string) {
	t.Helper()
	script := args[len(args)-1]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hazluaBin, append([]string{jobsFlag}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1",
		// A -race binary sleeps 1s at exit by default.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("hazlua %s did not finish in time\nstdout:\n%s\nstderr:\n%s", script, out.String(), errb.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Errorf("hazlua %s: exit status %d\nstderr:\n%s", script, ee.ExitCode(), errb.String())
	} else if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"goroutine ", "panic:", "DATA RACE", "runtime error: "} {
		if strings.Contains(errb.String(), bad) {
			t.Errorf("stderr shows %q", bad)
		}
	}
	return out.String(), errb.String()
}
