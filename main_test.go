package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hazlua/hazlua/internal/cli"
)

// TestMain makes the test binary double as the hazlua command: testscript
// copies it into a directory it puts first in PATH, under the name
// "hazlua", and a binary started under that name runs cli.Main instead of
// the tests. The end-to-end tests (e2e_test.go) run that copy, so hazlua
// is built once, with -race when the tests are. (The CLI scripts are in
// internal/cli.)
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hazlua": func() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// goraceEnv is GORACE for hazlua under test: a binary built with -race
// sleeps a second when it exits with status 0, unless told not to.
func goraceEnv() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// signalName returns the name hazlua's stopping line gives sig, in lower
// case and without "SIG": "int", "term", "hup", "quit".
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "int"
	case syscall.SIGTERM:
		return "term"
	case syscall.SIGHUP:
		return "hup"
	case syscall.SIGQUIT:
		return "quit"
	}
	return fmt.Sprint(int(sig))
}
