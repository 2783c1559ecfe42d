package luaapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/proc"
	"github.com/hazlua/hazlua/runner"
)

// stage is one parsed spawn table: what to start and how.
type stage struct {
	spec      proc.Spec
	outKind   string   // "capture", "pipe", "inherit", "null", "file"
	errKind   string   // "capture", "inherit", "null", "stdout", "file"
	inKind    string   // "null", "inherit", "pipe", "process", "file", "input"
	stdinProc *process // stdin = p
	timeout   time.Duration
	grace     time.Duration
	job       bool
	awaited   bool     // waited for right after the start (haz.run): proc.Options.Awaited
	envShown  []string // env changes, for -v
}

// parseStage reads a spawn table, bound to spawnOptions or to options
// derived from them.
func (rt *Runtime) parseStage(at *site, opts bound) *stage {
	t := opts.t
	st := &stage{job: opts.boolean("job")}

	// program and args, or the list form.
	var argv []string
	program, hasProgram := opts.str("program")
	list := listOf(at, "the argument list", t)
	if hasProgram && len(list) > 0 {
		at.raise("give program = ... or a list {program, args...}, not both")
	}
	if len(list) > 0 && opts.value("args") != lua.LNil {
		at.raise("give args = {...} or a list {program, args...}, not both")
	}
	if len(list) > 0 {
		if t.RawGetInt(1).Type() != lua.LTString {
			at.raise("program (item 1) must be a string, not a %s", typeName(t.RawGetInt(1)))
		}
		program, argv = list[0], list[1:]
	} else if !hasProgram {
		at.raise("no program: give program = \"name\" or a list {\"name\", args...}")
	}
	switch v := opts.value("args").(type) {
	case *lua.LNilType:
	case *lua.LTable:
		plainList.checkKeys(at.in("args"), v)
		argv = listOf(at, "args", v)
	default:
		at.raise("args must be a list, not a %s", typeName(v))
	}
	if program == "" {
		at.raise("program is empty")
	}
	if strings.IndexByte(program, 0) >= 0 {
		at.raise("program %q contains a NUL byte", program)
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			at.raise("argument %d (%q) contains a NUL byte", i+1, a)
		}
	}

	// Environment: hazlua's (haz.env) unless clear_env, then env on top.
	clear := opts.boolean("clear_env")
	var env []string
	if !clear {
		env = os.Environ()
	}
	switch v := opts.value("env").(type) {
	case *lua.LNilType:
	case *lua.LTable:
		env, st.envShown = rt.mergeEnv(at.L, at.where, env, v)
	default:
		at.raise("env must be a table, not a %s", typeName(v))
	}
	pathList := proc.Getenv(env, "PATH")
	if clear && pathList == "" {
		pathList = proc.DefaultPath
	}

	// Working directory.
	cwd, hasCwd := opts.str("cwd")
	if hasCwd {
		if cwd == "" {
			at.raise("cwd is empty")
		}
		fi, err := os.Stat(cwd)
		if err != nil {
			at.raise("cwd %q: %v", cwd, unwrapPathError(err))
		}
		if !fi.IsDir() {
			at.raise("cwd %q is not a directory", cwd)
		}
	}

	name, _ := opts.str("name")
	if name == "" {
		name = filepath.Base(program)
	}
	st.spec.Name = name
	st.spec.Jobserver = parseJobserver(at, opts.value("jobserver"), program)
	st.timeout = opts.duration("timeout")
	st.grace = opts.duration("grace")
	rt.parseStdin(at, opts, st)
	st.outKind = rt.parseOutput(at, opts, "stdout", &st.spec.Stdout)
	st.errKind = rt.parseOutput(at, opts, "stderr", &st.spec.Stderr)

	path, err := proc.LookPath(program, pathList, cwd)
	if err != nil {
		if errors.Is(err, proc.ErrNotFound) {
			at.raise("program %q not found in PATH", program)
		}
		var de *proc.DotError
		if errors.As(err, &de) {
			at.raise("program %q found in the relative PATH entry %q (refused, as in Go's os/exec): use %q", program, de.Entry, de.Path)
		}
		at.raise("program %q: %v", program, unwrapPathError(err))
	}
	st.spec.Path = path
	st.spec.Args = append([]string{program}, argv...)
	st.spec.Env = env
	st.spec.Dir = cwd
	return st
}

// jobserverDefault lists the programs (base names) that are jobserver
// clients unless the spawn says jobserver = false, and the form each
// reads: ninja 1.13 reads only the fifo form; make (every version since
// 4.2, 4.4 too) and cargo read the pipe form.
var jobserverDefault = map[string]proc.JobserverMode{
	"make": proc.JobserverPipe, "gmake": proc.JobserverPipe, "cargo": proc.JobserverPipe,
	"ninja": proc.JobserverFifo,
}

// parseJobserver reads a spawn's jobserver key (v) for program.
func parseJobserver(at *site, v lua.LValue, program string) proc.JobserverMode {
	form, known := jobserverDefault[filepath.Base(program)]
	switch v {
	case lua.LNil:
		if !known {
			return proc.JobserverOff
		}
		return form
	case lua.LTrue:
		if form == proc.JobserverFifo {
			return form
		}
		return proc.JobserverPipe
	case lua.LFalse:
		return proc.JobserverOff
	case lua.LString("pipe"):
		return proc.JobserverPipe
	case lua.LString("fifo"):
		return proc.JobserverFifo
	}
	if s, ok := v.(lua.LString); ok {
		at.raise("jobserver %q is not one of true, false, \"pipe\" or \"fifo\"", string(s))
	}
	at.raise("jobserver must be a boolean, \"pipe\" or \"fifo\", not a %s", typeName(v))
	return proc.JobserverOff
}

// mergeEnv applies a spawn's env table to env (proc.MergeEnv), and returns
// the changes as -v shows them.
func (rt *Runtime) mergeEnv(L *lua.LState, fname string, env []string, t *lua.LTable) ([]string, []string) {
	set := map[string]string{}
	unset := map[string]bool{}
	var shown []string
	t.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			raise(L, fname, "env names must be strings, not a %s", typeName(k))
		}
		name := string(ks)
		if name == "" || strings.ContainsAny(name, "=\x00") {
			raise(L, fname, "env name %q is not valid (empty, or with \"=\" or a NUL byte)", name)
		}
		switch v := v.(type) {
		case lua.LString, lua.LNumber:
			if strings.IndexByte(v.String(), 0) >= 0 {
				raise(L, fname, "env %s contains a NUL byte", name)
			}
			set[name] = v.String()
			shown = append(shown, name+"="+v.String())
		case lua.LBool:
			if v {
				raise(L, fname, "env %s must be a string, a number or false, not true", name)
			}
			unset[name] = true
			shown = append(shown, "-"+name)
		default:
			raise(L, fname, "env %s must be a string, a number or false, not a %s", name, typeName(v))
		}
	})
	sort.Strings(shown)
	return proc.MergeEnv(env, set, unset), shown
}

func (rt *Runtime) parseStdin(at *site, opts bound, st *stage) {
	in := opts.value("input")
	v := opts.value("stdin")
	if in != lua.LNil {
		if v != lua.LNil {
			at.raise("give stdin or input, not both")
		}
		st.spec.Stdin = proc.Input{Kind: proc.InString, Data: in.String()}
		st.inKind = "input"
		return
	}
	switch v := v.(type) {
	case *lua.LNilType:
		st.inKind = opts.def("stdin")
	case lua.LString:
		switch v {
		case "null":
			st.inKind = "null"
		case "inherit":
			st.spec.Stdin.Kind = proc.InInherit
			st.inKind = "inherit"
		case "pipe":
			st.spec.Stdin.Kind = proc.InPipe
			st.inKind = "pipe"
		default:
			at.raise("stdin %q is not one of \"null\", \"inherit\", \"pipe\", a process or {file = path}", string(v))
		}
	case *lua.LTable:
		path, _ := fileInput.bind(at.in("stdin"), v).str("file")
		st.spec.Stdin = proc.Input{Kind: proc.InFile, Path: path}
		st.inKind = "file"
	case *lua.LUserData:
		p, ok := v.Value.(*process)
		if !ok {
			at.raise("stdin must be a haz process, not %s", typeName(v))
		}
		if p.outKind != "pipe" {
			at.raise("stdin process %s was not spawned with stdout = \"pipe\"", p.describe())
		}
		if !p.last().PipeAvailable() && !p.drained() {
			at.raise("stdin process %s: its stdout pipe is already taken", p.describe())
		}
		st.stdinProc = p
		st.inKind = "process"
	default:
		at.raise("stdin must be a string, a process or a table, not a %s", typeName(v))
	}
}

// parseOutput reads the stdout or stderr (key) of a spawn table into out
// and returns its kind.
func (rt *Runtime) parseOutput(at *site, opts bound, key string, out *proc.Output) string {
	kind := opts.def(key)
	switch v := opts.value(key).(type) {
	case *lua.LNilType:
	case lua.LString:
		kind = string(v)
	case *lua.LTable:
		file := fileOutput.bind(at.in(key), v)
		path, _ := file.str("file")
		*out = proc.Output{Kind: proc.OutFile, Path: path, Append: file.boolean("append")}
		return "file"
	default:
		at.raise("%s must be a string or {file = path}, not a %s", key, typeName(v))
	}
	switch {
	case kind == "capture":
		out.Kind = proc.OutCapture
	case kind == "null":
		out.Kind = proc.OutNull
	case kind == "inherit":
		out.Kind = proc.OutWriter // the thread's sink, set at start
	case kind == "pipe" && key == "stdout":
		out.Kind = proc.OutPipe
	case kind == "stdout" && key == "stderr":
		out.Kind = proc.OutStdout
	default:
		valid := `"capture", "inherit", "null", "pipe" or {file = path}`
		if key == "stderr" {
			valid = `"inherit", "capture", "null", "stdout" or {file = path}`
		}
		at.raise("%s %q is not one of %s", key, kind, valid)
	}
	return kind
}

// start starts stages as one group from thread L: it takes the stdin
// pipe of a stdin process, waits for a job slot with the Lua lock released
// and starts. A failure to start raises.
func (rt *Runtime) start(L *lua.LState, fname string, stages []*stage) *process {
	th := threadOf(L)
	specs := make([]*proc.Spec, len(stages))
	opt := proc.Options{Job: th.jobs, Awaited: true}
	for i, st := range stages {
		opt.Awaited = opt.Awaited && st.awaited
		if st.spec.Stdout.Kind == proc.OutWriter {
			st.spec.Stdout.W, st.spec.Stdout.Done = rt.inherit(th, runner.Stdout)
		}
		if st.spec.Stderr.Kind == proc.OutWriter {
			st.spec.Stderr.W, st.spec.Stderr.Done = rt.inherit(th, runner.Stderr)
		}
		if !st.job {
			opt.Job = false
		}
		if st.timeout > 0 && (opt.Timeout == 0 || st.timeout < opt.Timeout) {
			opt.Timeout = st.timeout
		}
		opt.Grace = max(opt.Grace, st.grace)
		if st.inKind == "inherit" {
			opt.Foreground = true
		}
		specs[i] = &st.spec
	}
	first := stages[0]
	if sp := first.stdinProc; sp != nil {
		if f, err := sp.last().TakeStdout(); err == nil {
			first.spec.Stdin = proc.Input{Kind: proc.InReader, File: f}
		} else if sp.drained() {
			// It ended before anyone took its pipe, which was read into
			// memory then: feed that.
			sp.wait(L, fname, 0)
			b, err := sp.last().StdoutCapture().Bytes()
			if err != nil {
				raise(L, fname, "stdin process %s: %v", sp.describe(), err)
			}
			first.spec.Stdin = proc.Input{Kind: proc.InString, Data: string(b)}
			sp.fedStdin = true // like a pipe, it feeds one process
		} else {
			raise(L, fname, "stdin process %s: its stdout pipe is already taken", sp.describe())
		}
		opt.JoinJob = sp.g
	}
	for _, st := range stages {
		if st.spec.Jobserver != proc.JobserverOff {
			rt.checkJobserver()
			break
		}
	}
	if rt.cfg.Verbose {
		rt.echo(stages)
	}
	var g *proc.Group
	var err error
	rt.block(L, func(ctx context.Context) { g, err = rt.m.Start(ctx, opt, specs...) })
	if err != nil {
		if errors.Is(err, proc.ErrStartCancelled) {
			raise(L, fname, "cancelled while waiting to start %s", first.spec.Name)
		}
		var se *proc.StartError
		if errors.As(err, &se) {
			raise(L, fname, "cannot start %q: %v", se.Name, unwrapPathError(se.Err))
		}
		raise(L, fname, "%v", err)
	}
	if rt.cfg.Trace != nil {
		rt.traced.Add(1)
		go rt.traceGroup(th.task, g, stages)
	}
	return &process{rt: rt, g: g, stages: stages, outKind: stages[len(stages)-1].outKind}
}

// traceGroup records the processes of g in the --trace once it has ended,
// each on the track of the job slot the group held.
func (rt *Runtime) traceGroup(task string, g *proc.Group, stages []*stage) {
	defer rt.traced.Done()
	<-g.Done()
	for i, p := range g.Procs {
		r := p.Result()
		rt.cfg.Trace.Proc(task, stages[i].spec.Args, p.Pid, g.JobSlot(), p.Started(), p.Started().Add(r.Duration), r.String())
	}
}

// inherit returns where an inherited stream of a process started by th
// goes: hazlua's own file at the top level (the child gets the descriptor
// itself), else a writer of the task's sink of its own, and what ends its
// last line once the process's output is copied.
func (rt *Runtime) inherit(th *thread, st runner.Stream) (io.Writer, func()) {
	if th.sink == nil {
		if st == runner.Stdout {
			return rt.cfg.Stdout, nil
		}
		return rt.cfg.Stderr, nil
	}
	return th.sink.Writer(st)
}

// echo prints what is about to start (-v).
func (rt *Runtime) echo(stages []*stage) {
	var b strings.Builder
	b.WriteString(rt.prefix() + "spawn:")
	for i, st := range stages {
		if i > 0 {
			b.WriteString(" |")
		}
		for _, a := range st.spec.Args {
			b.WriteByte(' ')
			b.WriteString(shellQuote(a))
		}
		if st.spec.Dir != "" {
			fmt.Fprintf(&b, " (cwd %s)", st.spec.Dir)
		}
		if len(st.envShown) > 0 {
			fmt.Fprintf(&b, " (env %s)", strings.Join(st.envShown, " "))
		}
		if flags, _ := rt.m.JobserverFlags(st.spec.Jobserver); flags != "" {
			fmt.Fprintf(&b, " (jobserver %s)", flags)
		}
	}
	b.WriteByte('\n')
	rt.writeLine(rt.cfg.Stderr, b.String())
}

// checkJobserver makes the jobserver for a client about to start, and
// warns once if it cannot be made: the client then runs without one.
func (rt *Runtime) checkJobserver() {
	if _, err := rt.m.JobserverFlags(proc.JobserverPipe); err != nil {
		rt.jobserverWarn.Do(func() {
			rt.warn(fmt.Sprintf("%v: make, ninja and cargo run without it (each with its own -j)", err))
		})
	}
}

// shellQuote quotes s for display when it is not a plain word.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return strconv.Quote(s)
}
