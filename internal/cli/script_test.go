package cli

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes the test binary double as the hazlua command: testscript
// copies it into a directory it puts first in PATH, under the name
// "hazlua", and a binary started under that name runs Main instead of the
// tests. The CLI scripts (TestScript) and the tests that need a real
// hazlua process run that copy, built with -race when the tests are.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hazlua": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI tests in testdata/script/*.txtar: flags, script
// resolution, exit statuses and error messages of the hazlua command.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("GORACE", goraceEnv())
			return nil
		},
	})
}

// goraceEnv is GORACE for hazlua under test: a binary built with -race
// sleeps a second when it exits with status 0, unless told not to.
func goraceEnv() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// cmdExitcode is the script command "exitcode N program [args...]": it runs
// program like exec does (its stdout and stderr are then checked with the
// stdout and stderr commands) and fails unless it exits with status N, or
// with any status when N is "any" (testscript has no "? exec").
// exec can only tell zero from non-zero, and hazlua's statuses mean
// different things (1: run time failure, 2: usage or load error, 128+n:
// signal n).
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil && args[0] != "any" {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
		if got < 0 {
			ts.Fatalf("exitcode: %s was killed: %v", args[1], err)
		}
	}
	if got != want && args[0] != "any" {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
