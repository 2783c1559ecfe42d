// Package cli is the hazlua command: its flags, which script it runs, the
// stop protocol on signals, and its exit statuses. The main package calls
// Main and nothing else; only main calls os.Exit.
//
// The layers below know nothing of exit statuses: luaapi.Runtime.Run
// returns an *luaapi.Error whose Kind says what ended the run, and
// ExitStatus maps it to a status (docs/design.md, "The command and its
// errors"). Lines that start with "hazlua: " and report an error are
// written here too.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/hazlua/hazlua/internal/completion"
	"github.com/hazlua/hazlua/internal/fsutil"
	runreport "github.com/hazlua/hazlua/internal/report"
	"github.com/hazlua/hazlua/internal/trace"
	"github.com/hazlua/hazlua/luaapi"
)

const usage = `Usage: hazlua [flags] [SCRIPT] [TASK...] [-- ARG...]

Runs SCRIPT (default: build.lua, searched for in the current directory and
its parents), then the named TASKs with their dependencies (default: the
task "default" if the script defines one). ARGs after -- are haz.args.

Flags:
`

// Main is the hazlua command: it parses args (without the program name),
// runs the script and returns the exit status. It changes the working
// directory (-C, then the project root) and handles the stopping signals
// while the script runs.
func Main(args []string, stdin, stdout, stderr *os.File) int {
	defer startProfiles(stderr)()
	opts, err := parseArgs(args)
	if err != nil {
		return report(errWriter{stderr, colorEnabled("auto", stderr, os.Getenv)}, err)
	}
	ew := errWriter{stderr, colorEnabled(opts.color, stderr, os.Getenv)}
	if opts.help != "" {
		fmt.Fprint(stdout, opts.help)
		return ExitOK
	}
	if opts.version {
		fmt.Fprintf(stdout, "hazlua %s (%s %s/%s)\n", luaapi.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return ExitOK
	}
	if opts.completion != "" {
		return report(ew, writeCompletion(stdout, opts.completion))
	}
	if opts.dir != "" {
		if err := os.Chdir(opts.dir); err != nil {
			return report(ew, usageErrorf("-C: %v", err))
		}
	}
	if opts.types != "" {
		return report(ew, writeTypes(stdout, opts.types))
	}
	if opts.cacheDir == "" {
		opts.cacheDir = os.Getenv(CacheDirEnv)
	}
	if opts.cacheDir != "" {
		if opts.cacheDir, err = filepath.Abs(opts.cacheDir); err != nil {
			return report(ew, usageErrorf("--cache-dir: %v", err))
		}
	}
	if opts.cacheOp != nil {
		return report(ew, maintainCache(opts, stdout))
	}
	remote, err := remoteCache(opts.remote)
	if err != nil {
		return report(ew, err)
	}
	for _, f := range []struct {
		name string
		path *string
	}{{"--report", &opts.report}, {"--trace", &opts.trace}} {
		if *f.path != "" {
			if *f.path, err = filepath.Abs(*f.path); err != nil {
				return report(ew, usageErrorf("%s: %v", f.name, err))
			}
		}
	}
	script, tasks, err := resolveScript(opts.file, opts.positional)
	if err != nil {
		return report(ew, err)
	}
	listFormat := ""
	switch {
	case opts.completeTasks:
		listFormat = luaapi.ListNames
	case opts.json:
		listFormat = luaapi.ListJSON
	}

	started := time.Now()
	var tr *trace.Recorder
	if opts.trace != "" {
		tr = trace.New(started)
	}
	cfg := luaapi.Config{
		Script:     script,
		Name:       "hazlua",
		Args:       opts.scriptArgs,
		Tasks:      tasks,
		Jobs:       opts.jobs,
		KeepGoing:  opts.keepGoing,
		FailFast:   opts.failFast,
		List:       opts.list || opts.completeTasks,
		ListFormat: listFormat,
		Graph:      opts.graph,
		DryRun:     opts.dryRun,
		Output:     opts.output,
		Grace:      opts.grace,
		Verbose:    opts.verbose,
		Explain:    opts.explain,
		NoCache:    opts.noCache,
		CacheDir:   opts.cacheDir,
		Remote:     remote,
		Quiet:      opts.quiet,
		Color:      ew.color,
		Trace:      tr,
		Stdin:      stdin,
		Stdout:     stdout,
		Stderr:     stderr,

		ChangedSince: opts.changedSince,
	}
	if opts.watch {
		return watchMain(cfg, opts, ew)
	}
	rt, err := luaapi.New(cfg)
	if err != nil {
		return report(ew, err)
	}
	sigs, stop := notifySignals()
	defer stop()
	run := &errorKeeper{runnable: rt}
	status := supervise(run, sigs, ew, defaultTiming)
	// Both files are written however the run ended: failed, stopped by
	// a signal, or forced.
	if opts.report != "" {
		rep, targets := rt.Report()
		doc := runreport.NewRun(rt.ScriptName(), targets, started, time.Since(started), status, run.errorLine(), rep)
		status = writeAfterRun(ew, "--report", opts.report, status, func(w io.Writer) error {
			_, err := w.Write(runreport.JSON(doc))
			return err
		})
	}
	if tr != nil {
		rt.WaitTrace(2 * time.Second) // at once unless the run was forced
		status = writeAfterRun(ew, "--trace", opts.trace, status, func(w io.Writer) error {
			_, err := tr.WriteTo(w)
			return err
		})
	}
	return status
}

// writeAfterRun writes the file of flag (--report, --trace) at path, and
// returns the exit status: status, or ExitFailure if the file could not be
// written after a run that succeeded.
func writeAfterRun(stderr errWriter, flag, path string, status int, write func(io.Writer) error) int {
	if err := fsutil.WriteFileAtomic(path, write); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", stderr.name(), flag, err)
		if status == ExitOK {
			return ExitFailure
		}
	}
	return status
}

// errorKeeper runs a script and keeps the error its run returned, for the
// report.
type errorKeeper struct {
	runnable
	mu  sync.Mutex
	err error
}

func (k *errorKeeper) Run() error {
	err := k.runnable.Run()
	k.mu.Lock()
	k.err = err
	k.mu.Unlock()
	return err
}

// errorLine returns the run's error as report prints it, without
// "hazlua: ", or "".
func (k *errorKeeper) errorLine() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err == nil {
		return ""
	}
	return k.err.Error()
}

// options is a parsed command line.
type options struct {
	help    string // not "": --help was given; the text to print
	version bool

	file, dir           string
	jobs                int
	keepGoing, failFast bool
	list, dryRun        bool
	output              string
	grace               time.Duration
	verbose, quiet      bool
	color               string // "auto", "always" or "never"
	explain, noCache    bool
	json, graph         bool     // --json (with -l), --graph
	report              string   // --report FILE, made absolute by Main
	trace               string   // --trace FILE, made absolute by Main
	types               string   // --types DIR: write the editor definitions and exit
	completion          string   // --completion SHELL: print its completion script and exit
	completeTasks       bool     // --complete-tasks: list the tasks for a completion script
	cacheDir            string   // --cache-dir (or HAZLUA_CACHE_DIR, made absolute by Main)
	cacheOp             *cacheOp // a cache maintenance flag: Main does it instead of a run
	remote              remoteOptions
	changedSince        string // --changed-since REV

	watch, clear  bool          // -w/--watch, --clear
	watchDelayArg string        // --watch-delay as given; "": the default
	watchDelay    time.Duration // --watch-delay, parsed (when given)

	positional []string // SCRIPT and TASKs, before "--"
	scriptArgs []string // after "--"
}

// parseArgs parses the command line. With --help or --version, nothing
// else is checked. Errors are *usageError.
func parseArgs(args []string) (*options, error) { return parseArgsWith(args, hasFlags(args)) }

// parseArgsWith is parseArgs, with a pflag FlagSet when useFlagSet is set
// (it must be when hasFlags(args)).
func parseArgsWith(args []string, useFlagSet bool) (*options, error) {
	// The defaults; newFlagSet gives them to the flags.
	o := options{jobs: runtime.NumCPU(), output: "prefixed", color: "auto"}
	var (
		help  bool
		grace = "5s"
		op    cacheOp
		rest  []string // the positionals, and the script's arguments from at
		at    = -1
	)
	if useFlagSet {
		fs := newFlagSet(&o, &help, &grace, &op)
		if err := fs.Parse(args); err != nil {
			return nil, usageErrorf("%v", err)
		}
		if help {
			o.help = usage + fs.FlagUsages()
			return &o, nil
		}
		rest, at = fs.Args(), fs.ArgsLenAtDash()
		if fs.Changed("changed-since") && o.changedSince == "" {
			return nil, usageErrorf("--changed-since needs a git revision, not an empty string")
		}
	} else {
		// Nothing for a FlagSet to parse: every default stands and every
		// argument is positional, as pflag would have it, without the
		// cost of a FlagSet (its 22 flags are 50 allocations).
		rest = append(make([]string, 0, len(args)), args...)
	}
	if o.version {
		return &o, nil
	}
	if o.jobs < 0 {
		return nil, usageErrorf("-j must be 0 (no cap) or more, not %d", o.jobs)
	}
	d, err := luaapi.ParseDuration(grace, isNumber(grace))
	if err != nil {
		return nil, usageErrorf("--grace: %v", err)
	}
	o.grace = d
	switch o.color {
	case "auto", "always", "never":
	default:
		return nil, usageErrorf("--color must be auto, always or never, not %q", o.color)
	}
	switch o.output {
	case "prefixed", "grouped", "raw":
	default:
		return nil, usageErrorf("-o must be prefixed, grouped or raw, not %q", o.output)
	}
	if o.keepGoing && o.failFast {
		return nil, usageErrorf("-k and --fail-fast cannot be used together")
	}
	if err := op.check(); err != nil {
		return nil, err
	}
	if op.stats || op.prune || op.clear {
		o.cacheOp = &op
	}
	if err := o.checkWatch(); err != nil {
		return nil, err
	}
	o.positional = rest
	if at >= 0 {
		o.positional, o.scriptArgs = rest[:at], rest[at:]
	}
	return &o, nil
}

// hasFlags reports whether pflag would see a flag (or "--") in args: an
// argument that starts with "-" and is not "-" alone.
func hasFlags(args []string) bool {
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' {
			return true
		}
	}
	return false
}

// newFlagSet returns hazlua's flags, bound to o and the others, whose
// values on entry are the defaults.
func newFlagSet(o *options, help *bool, grace *string, op *cacheOp) *pflag.FlagSet {
	fs := pflag.NewFlagSet("hazlua", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVarP(&o.file, "file", "f", o.file, "the script `PATH` (then every positional is a TASK)")
	fs.StringVarP(&o.dir, "directory", "C", o.dir, "change to `DIR` before anything else")
	fs.IntVarP(&o.jobs, "jobs", "j", o.jobs, "at most `N` tasks and N jobs at once; 0: no cap")
	fs.BoolVarP(&o.keepGoing, "keep-going", "k", o.keepGoing, "after a failure, keep running tasks that do not depend on it")
	fs.BoolVar(&o.failFast, "fail-fast", o.failFast, "after a failure, cancel running tasks at once")
	fs.BoolVarP(&o.list, "list", "l", o.list, "list tasks with descriptions and dependencies")
	fs.BoolVarP(&o.dryRun, "dry-run", "n", o.dryRun, "print the plan; run no task body")
	fs.StringVarP(&o.output, "output", "o", o.output, "task output `MODE`: prefixed, grouped or raw")
	fs.StringVar(grace, "grace", *grace, "SIGTERM → SIGKILL grace `DURATION`")
	fs.BoolVarP(&o.verbose, "verbose", "v", o.verbose, "echo each spawn (argv, cwd, env changes) as it starts")
	fs.BoolVarP(&o.quiet, "quiet", "q", o.quiet, "only task output and errors")
	fs.StringVar(&o.color, "color", o.color, "colour `WHEN`: auto, always or never")
	fs.BoolVar(&o.explain, "explain", o.explain, "say why each task runs, is up to date or is restored from the cache")
	fs.BoolVar(&o.noCache, "no-cache", o.noCache, "run every task: none up to date or restored (successes are still recorded)")
	fs.StringVar(&o.cacheDir, "cache-dir", o.cacheDir, "the cache `DIR` (default: $"+CacheDirEnv+", else .haz/cache in the project root)")
	fs.StringVar(&o.remote.url, "remote-cache", o.remote.url, "share the cache through the Bazel HTTP remote cache at `URL` (default: $"+RemoteCacheEnv+")")
	fs.BoolVar(&o.remote.readOnly, "remote-cache-read-only", o.remote.readOnly, "look tasks up in the remote cache but upload nothing")
	fs.StringVar(&o.remote.timeout, "remote-cache-timeout", o.remote.timeout, "a remote cache request making no progress for `DURATION` fails (default 10s)")
	fs.BoolVar(&op.stats, "cache-stats", op.stats, "print the cache's entries, size and hits, and exit")
	fs.BoolVar(&op.prune, "cache-prune", op.prune, "remove the least recently used entries beyond --cache-max-size and --cache-max-age, and exit")
	fs.StringVar(&op.maxSize, "cache-max-size", op.maxSize, "with --cache-prune: keep at most `SIZE` (500M, 2G)")
	fs.StringVar(&op.maxAge, "cache-max-age", op.maxAge, "with --cache-prune: remove entries unused for `AGE` (30d, 72h)")
	fs.BoolVar(&op.clear, "cache-clear", op.clear, "remove everything from the cache, and exit")
	fs.StringVar(&o.changedSince, "changed-since", o.changedSince, "run only the tasks whose inputs changed since the git revision `REV` (git diff, untracked files), and their dependents")
	fs.BoolVar(&o.json, "json", o.json, "with -l: list the tasks as JSON (docs/formats.md)")
	fs.BoolVar(&o.graph, "graph", o.graph, "print the tasks a run would start as a Graphviz DOT graph; run none")
	fs.StringVar(&o.report, "report", o.report, "after the run, write a JSON report of each task's outcome to `FILE` (docs/formats.md)")
	fs.StringVar(&o.trace, "trace", o.trace, "write a timeline of the run's tasks and processes to `FILE` (Chrome trace JSON, for ui.perfetto.dev)")
	fs.StringVar(&o.types, "types", o.types, "write the haz module's LuaLS definitions into `DIR` and point .luarc.json at them, and exit")
	fs.StringVar(&o.completion, "completion", o.completion, "print the completion script for `SHELL` (bash, zsh, fish), and exit")
	fs.BoolVar(&o.completeTasks, completion.TasksFlag, o.completeTasks, "print the tasks as NAME<tab>DESCRIPTION (for completion scripts)")
	fs.MarkHidden(completion.TasksFlag)
	watchFlags(fs, o)
	fs.BoolVar(&o.version, "version", o.version, "print the version and exit")
	fs.BoolVarP(help, "help", "h", *help, "print this help and exit")
	return fs
}

// resolveScript picks the script from -f (file), else the first
// positional if it ends in .lua, else build.lua in the working directory
// or a parent; the remaining positionals are the tasks.
func resolveScript(file string, positional []string) (script string, tasks []string, err error) {
	switch {
	case file != "":
		return file, positional, nil
	case len(positional) > 0 && strings.HasSuffix(positional[0], ".lua"):
		return positional[0], positional[1:], nil
	}
	script, err = findScript()
	if err != nil {
		return "", nil, usageErrorf("%v", err)
	}
	return script, positional, nil
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

// usageError is a bad command line. report prints it with a pointer to
// --help; its exit status is ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// report prints err (if it has anything to say) as "hazlua: ..." and
// returns its exit status.
func report(stderr errWriter, err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s %s\nRun 'hazlua --help' for usage.\n", stderr.name(), ue.msg)
		return ExitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "%s %s\n", stderr.name(), msg)
	}
	return ExitStatus(err)
}
