// Command hazlua runs a Lua build script: hazlua [flags] [SCRIPT] [TASK...] [-- ARG...].
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/hazlua/hazlua/luaapi"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

const usage = `Usage: hazlua [flags] [SCRIPT] [TASK...] [-- ARG...]

Runs SCRIPT (default: build.lua, searched for in the current directory and
its parents), then the named TASKs with their dependencies (default: the
task "default" if the script defines one). ARGs after -- are haz.args.

Flags:
`

// run is hazlua: it parses args, runs the script and returns the exit
// status. Only main calls os.Exit.
func run(args []string, stdin, stdout, stderr *os.File) int {
	fs := pflag.NewFlagSet("hazlua", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var (
		file      = fs.StringP("file", "f", "", "the script `PATH` (then every positional is a TASK)")
		dir       = fs.StringP("directory", "C", "", "change to `DIR` before anything else")
		jobs      = fs.IntP("jobs", "j", runtime.NumCPU(), "at most `N` tasks and N jobs at once; 0: no cap")
		keepGoing = fs.BoolP("keep-going", "k", false, "after a failure, keep running tasks that do not depend on it")
		failFast  = fs.Bool("fail-fast", false, "after a failure, cancel running tasks at once")
		list      = fs.BoolP("list", "l", false, "list tasks with descriptions and dependencies")
		dryRun    = fs.BoolP("dry-run", "n", false, "print the plan; run no task body")
		output    = fs.StringP("output", "o", "prefixed", "task output `MODE`: prefixed, grouped or raw")
		grace     = fs.String("grace", "5s", "SIGTERM → SIGKILL grace `DURATION`")
		verbose   = fs.BoolP("verbose", "v", false, "echo each spawn (argv, cwd, env changes) as it starts")
		quiet     = fs.BoolP("quiet", "q", false, "only task output and errors")
		color     = fs.String("color", "auto", "colour `WHEN`: auto, always or never")
		version   = fs.Bool("version", false, "print the version and exit")
		help      = fs.BoolP("help", "h", false, "print this help and exit")
	)
	usageError := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "hazlua: "+format+"\nRun 'hazlua --help' for usage.\n", a...)
		return luaapi.ExitUsage
	}
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	if *help {
		fmt.Fprint(stdout, usage+fs.FlagUsages())
		return luaapi.ExitOK
	}
	if *version {
		fmt.Fprintf(stdout, "hazlua %s (%s %s/%s)\n", luaapi.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return luaapi.ExitOK
	}
	if *jobs < 0 {
		return usageError("-j must be 0 (no cap) or more, not %d", *jobs)
	}
	graceDur, err := luaapi.ParseDuration(*grace, isNumber(*grace))
	if err != nil {
		return usageError("--grace: %v", err)
	}
	var colorOn bool
	switch *color {
	case "always":
		colorOn = true
	case "never":
	case "auto":
		colorOn = term.IsTerminal(int(stderr.Fd())) && os.Getenv("NO_COLOR") == ""
	default:
		return usageError("--color must be auto, always or never, not %q", *color)
	}
	switch *output {
	case "prefixed", "grouped", "raw":
	default:
		return usageError("-o must be prefixed, grouped or raw, not %q", *output)
	}
	if *keepGoing && *failFast {
		return usageError("-k and --fail-fast cannot be used together")
	}

	positional, scriptArgs := fs.Args(), []string(nil)
	if at := fs.ArgsLenAtDash(); at >= 0 {
		positional, scriptArgs = fs.Args()[:at], fs.Args()[at:]
	}
	if *dir != "" {
		if err := os.Chdir(*dir); err != nil {
			return usageError("-C: %v", err)
		}
	}
	script := *file
	if script == "" && len(positional) > 0 && strings.HasSuffix(positional[0], ".lua") {
		script, positional = positional[0], positional[1:]
	}
	if script == "" {
		if script, err = findScript(); err != nil {
			return usageError("%v", err)
		}
	}

	rt, err := luaapi.New(luaapi.Config{
		Script:    script,
		Args:      scriptArgs,
		Tasks:     positional,
		Jobs:      *jobs,
		KeepGoing: *keepGoing,
		FailFast:  *failFast,
		List:      *list,
		DryRun:    *dryRun,
		Output:    *output,
		Grace:     graceDur,
		Verbose:   *verbose,
		Quiet:     *quiet,
		Color:     colorOn,
		Stdin:     stdin,
		Stdout:    stdout,
		Stderr:    stderr,
	})
	if err != nil {
		return report(stderr, err)
	}
	forced := make(chan int, 1)
	stop := handleSignals(rt, stderr, forced)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- rt.Run() }()
	select {
	case err := <-done:
		return report(stderr, err)
	case code := <-forced:
		// The run is stuck (in a write to a full stdout, say) and every
		// process is dead: leave it behind.
		return code
	}
}

// report prints err (if it has anything to say) and returns its exit
// status.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return luaapi.ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "hazlua: %s\n", msg)
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return luaapi.ExitFailure
}

// handleSignals stops the run on SIGINT, SIGTERM, SIGHUP or SIGQUIT (exit
// 128+n), and kills every process group at a second one. SIGHUP that was
// ignored when hazlua started stays ignored (nohup); it is still caught, so
// that children start with its default disposition. SIGPIPE is caught so
// that a closed stdout is an EPIPE error hazlua handles (exit 141).
//
// If the run has not ended a grace period (and a little) after the first
// signal, every process is killed and forced gets the exit status: the
// script may be stuck where no cancellation reaches, such as a write to a
// full pipe.
func handleSignals(rt *luaapi.Runtime, stderr io.Writer, forced chan<- int) (stop func()) {
	sigs := make(chan os.Signal, 4)
	ignored := make(chan os.Signal, 4)
	stopping := []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT}
	if signal.Ignored(syscall.SIGHUP) {
		signal.Notify(ignored, syscall.SIGHUP)
	} else {
		stopping = append(stopping, syscall.SIGHUP)
	}
	signal.Notify(ignored, syscall.SIGPIPE, syscall.SIGTTOU, syscall.SIGTTIN)
	signal.Notify(sigs, stopping...)
	done := make(chan struct{})
	// The "stopping" lines are written by a goroutine of their own, so
	// that a full stderr cannot keep the handler from stopping the run;
	// stop waits a moment for them.
	msgs := make(chan string, 4)
	written := make(chan struct{})
	go func() {
		defer close(written)
		for m := range msgs {
			io.WriteString(stderr, m)
		}
	}()
	say := func(format string, a ...any) {
		select {
		case msgs <- fmt.Sprintf(format, a...):
		default: // the writer is stuck; the stop goes on regardless
		}
	}
	handlerDone := make(chan struct{})
	go func() {
		for {
			select {
			case <-ignored:
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer close(handlerDone)
		first := true
		for {
			select {
			case s := <-sigs:
				sig := s.(syscall.Signal)
				// Stop first, then say so: a write to a full stderr
				// must not keep the processes running.
				if first {
					first = false
					code := 128 + int(sig)
					rt.Stop(code)
					if rt.Loading() {
						// Parsing cannot be interrupted, and nothing
						// has started: leave at once.
						forced <- code
						continue
					}
					say("hazlua: received SIG%s, stopping; waiting up to %s for processes to exit (again to kill them now)\n",
						strings.ToUpper(signalName(sig)), rt.Grace())
					time.AfterFunc(rt.Grace()+2*time.Second, func() {
						rt.Kill()
						// Every process is SIGKILLed and reaped well within
						// the bound; what may stay stuck is a copy into a
						// full pipe, which nothing needs any more.
						ended := make(chan struct{})
						go func() { rt.Shutdown(); close(ended) }()
						select {
						case <-ended:
						case <-time.After(2 * time.Second):
						}
						forced <- code
					})
				} else {
					rt.Kill()
					say("hazlua: received SIG%s again, killing every process now\n", strings.ToUpper(signalName(sig)))
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		signal.Stop(sigs)
		<-handlerDone // no say after this
		close(msgs)
		select {
		case <-written:
		case <-time.After(time.Second):
		}
	}
}

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

// findScript looks for build.lua in the working directory and its
// parents.
func findScript() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "build.lua")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		if dir == filepath.Dir(dir) {
			return "", fmt.Errorf("no build.lua in %s or any parent directory (give a script, or -f PATH)", wd)
		}
	}
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
