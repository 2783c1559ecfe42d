package proc

import (
	"io"
	"os"
	"time"
)

// Spec describes one process to start. Path must already be resolved (see
// LookPath); Args is the whole argv, Args[0] included. The zero Spec is not
// valid: Path and Args are required.
type Spec struct {
	Path string   // program to execute
	Args []string // argv, Args[0] included
	Env  []string // the whole environment, "NAME=value"; nil means empty
	Dir  string   // working directory; "" means hazlua's

	Stdin  Input
	Stdout Output
	Stderr Output

	// Name labels the process in results and errors; "" means the base
	// name of Path.
	Name string

	// Jobserver makes the process a client of the Manager's GNU make
	// jobserver (jobserver.go): MAKEFLAGS in Env gains -jN and
	// --jobserver-auth in that form. Ignored with no cap on jobs, or
	// when the jobserver could not be made (Manager.JobserverFlags says
	// why).
	Jobserver JobserverMode
}

// InputKind says where a child's standard input comes from.
type InputKind int

// The input kinds. The zero value is InNull.
const (
	InNull    InputKind = iota // /dev/null
	InInherit                  // hazlua's own standard input
	InPipe                     // a pipe written with Process.Stdin
	InString                   // Input.Data, then end of file
	InFile                     // the file at Input.Path
	InReader                   // the read end Input.File (another process's stdout pipe); Start takes ownership
)

// Input is a child's standard input. The zero value means /dev/null.
type Input struct {
	Kind InputKind
	Data string   // InString
	Path string   // InFile
	File *os.File // InReader
}

// OutputKind says where a child's standard output or error goes.
type OutputKind int

// The output kinds. The zero value is OutNull.
const (
	OutNull    OutputKind = iota // /dev/null
	OutCapture                   // into memory (Process.Stdout, Process.Stderr)
	OutPipe                      // a pipe whose read end is taken with Process.TakeStdout
	OutFile                      // the file at Output.Path, truncated unless Append
	OutWriter                    // Output.W: an *os.File is handed to the child as is; anything else is fed from a pipe
	OutStdout                    // stderr only: the same place as stdout (2>&1)
)

// Output is a child's standard output or error. The zero value means
// /dev/null.
type Output struct {
	Kind   OutputKind
	Path   string    // OutFile
	Append bool      // OutFile
	W      io.Writer // OutWriter
	// Done, if set, is called once for OutWriter when everything the
	// child wrote has been copied to W, before the group's Done is closed
	// (a line writer flushes its last, unterminated line there).
	Done func()
}

// Options are the settings of one Start that apply to the whole group.
type Options struct {
	// Timeout, if positive, terminates the group (SIGTERM, SIGCONT, grace,
	// SIGKILL) that long after it starts; the results say TimedOut.
	Timeout time.Duration
	// Grace is the time between SIGTERM and SIGKILL; 0 means the
	// Manager's.
	Grace time.Duration
	// Job makes the group take a slot from the Manager's Slots before it
	// starts, waiting for one if need be, and free it when the group ends.
	Job bool
	// JoinJob, if non-nil, is a running group whose job this group joins:
	// it takes no slot of its own and keeps the joined slot taken until it
	// ends too. Job is ignored then.
	JoinJob *Group
	// Foreground makes the group the terminal's foreground process group
	// while it runs, if hazlua's standard input is a terminal. One
	// foreground group at a time: a second waits for the first to end.
	Foreground bool
	// Awaited says that the caller waits for the group right after Start
	// (as haz.run does). Each exit is then learnt by a waitid that blocks
	// a thread of its own, which is quicker than a round trip through the
	// network poller; at most maxBlockingWatch processes at a time are
	// watched so, the others through the poller. It changes nothing else:
	// the group still ends, is cancelled and is waited for as without it.
	Awaited bool
}
