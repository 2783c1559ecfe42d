package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// colorEnabled decides whether hazlua colours what it writes to stderr (a
// task's prefix, the summary, "hazlua:" in front of an error), from
// --color and the environment (an empty variable counts as unset, as
// NO_COLOR's convention has it); the first that speaks wins:
//
//  1. --color always or never;
//  2. NO_COLOR set and not empty: off (no-color.org);
//  3. FORCE_COLOR set: on, unless "0" or "false" (Node's convention, which
//     npm tools and CI services follow);
//  4. CLICOLOR_FORCE set, not empty and not "0": on (bixense.com/clicolors);
//  5. CLICOLOR=0: off;
//  6. on when stderr is a terminal.
func colorEnabled(flag string, stderr *os.File, getenv func(string) string) bool {
	switch flag {
	case "always":
		return true
	case "never":
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if v := getenv("FORCE_COLOR"); v != "" {
		return v != "0" && v != "false"
	}
	if v := getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	if getenv("CLICOLOR") == "0" {
		return false
	}
	return stderr != nil && term.IsTerminal(int(stderr.Fd()))
}

// errWriter is where hazlua's errors go, and whether their "hazlua:" is
// coloured.
type errWriter struct {
	io.Writer
	color bool
}

// name returns "hazlua:", bold red when colouring.
func (w errWriter) name() string {
	if w.color {
		return "\x1b[1;31mhazlua:\x1b[0m"
	}
	return "hazlua:"
}
