package cli

import (
	"errors"
	"syscall"

	"github.com/hazlua/hazlua/luaapi"
)

// Exit statuses of hazlua (docs/design.md, "The command and its errors").
const (
	// ExitOK: the run succeeded (also --help and --version).
	ExitOK = 0
	// ExitFailure: a task or the script failed at run time, a timeout
	// included.
	ExitFailure = 1
	// ExitUsage: a usage error, a script that cannot be loaded, a bad
	// task definition, an unknown task or an invalid graph.
	ExitUsage = 2
	// exitSignalBase plus n is the status of a run stopped by signal n
	// (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT, and 141 when
	// hazlua's own stdout or stderr is a closed pipe, as if by SIGPIPE).
	exitSignalBase = 128
)

// SignalStatus returns the exit status of a run stopped by sig: 128+n.
func SignalStatus(sig syscall.Signal) int { return exitSignalBase + int(sig) }

// ExitStatus returns the exit status for err, the result of a run: ExitOK
// for nil; for an *luaapi.Error, the status its Kind calls for (a stop
// beats a failure: its status is the signal's, or os.exit's); ExitUsage
// for a bad command line; ExitFailure for anything else.
func ExitStatus(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var le *luaapi.Error
	if !errors.As(err, &le) {
		return ExitFailure
	}
	switch le.Kind {
	case luaapi.KindStopped:
		if le.Signal != 0 {
			return SignalStatus(le.Signal)
		}
		return le.Status
	case luaapi.KindUsage, luaapi.KindLoad, luaapi.KindDefinition:
		return ExitUsage
	}
	return ExitFailure
}
