package luaapi

import (
	"path/filepath"
	"runtime"

	lua "github.com/yuin/gopher-lua"
)

// This file declares the haz module: every function (with its parameters),
// every value and every option table, with their keys. The haz table, its
// submodules and the process methods are built from these declarations
// (module.go), and option tables are checked against them (bind.go), so
// each list of keys exists here only. docs/api.md is the user's reference.

// Func is a function of the haz module, or a method of a haz value.
type Func struct {
	// Name is the full name: "haz.spawn", "haz.fs.read", or
	// "haz.process:wait" for a method.
	Name string
	// Params are the parameters, in order (a method's receiver is not
	// one); Required marks those that must be given.
	Params []Field
	// Returns lists the result types as LuaLS writes them, comma-separated:
	// "haz.Process", "string?, string?" (a value, or nil and a message).
	Returns string
	Doc     string

	fn   lua.LGFunction                  // a function of its arguments alone
	rtFn func(*Runtime, *lua.LState) int // or one that needs the run
}

// Value is a value of the haz module that is not a function: a fact about
// the run, haz.env, haz.json.null.
type Value struct {
	Name string // the full name: "haz.root"
	Type Type
	Doc  string

	value func(rt *Runtime, L *lua.LState) lua.LValue
}

// Declarations lists the haz module's functions, values and option tables,
// and the tables hazlua hands to scripts (a process's result, a task
// body's argument).
type Declarations struct {
	Funcs   []*Func
	Values  []*Value
	Options []*Options
	Results []*Options
}

// API returns the declarations of the haz module, for tools such as a
// generator of editor type definitions. The caller must not modify them.
func API() Declarations {
	return Declarations{Funcs: apiFuncs, Values: apiValues, Options: apiOptions, Results: apiResults}
}

// Option tables.

// The shapes of a spawn's stdin, stdout and stderr other than a string.
var (
	fileInput = &Options{Name: "haz.FileInput", Doc: "stdin read from a file", Fields: []Field{
		{Name: "file", Type: stringT, Required: true, Doc: "the path, relative to the project root"},
	}}
	fileOutput = &Options{Name: "haz.FileOutput", Doc: "stdout or stderr written to a file (created with mode 0666 less the umask)", Fields: []Field{
		{Name: "file", Type: stringT, Required: true, Doc: "the path, relative to the project root (not to cwd)"},
		{Name: "append", Type: booleanT, Default: "false", Doc: "append instead of truncating"},
	}}
)

// stdoutField is the stdout key of a spawn table whose default is def.
func stdoutField(def string) Field {
	return Field{Name: "stdout", Type: custom(`"capture"|"inherit"|"null"|"pipe"|haz.FileOutput`), Default: def,
		Doc: `"capture": kept for p:stdout() and the result; "inherit": the caller's output; "null"; "pipe": for another process's stdin or p:lines(); or {file = path}`}
}

var spawnOptions = &Options{
	Name: "haz.SpawnOptions",
	Doc:  "what haz.spawn starts, and how: a list {program, args...} or program = ..., plus options",
	List: &Field{Type: custom("string|number"), Doc: "the list form: the program, then its arguments"},
	Fields: []Field{
		{Name: "program", Type: stringT, Doc: "the program: a name looked up in the child's PATH, or a path containing \"/\" (instead of the list form)"},
		{Name: "args", Type: custom("(string|number)[]"), Doc: "the arguments after program (instead of the list form); numbers are converted"},
		{Name: "env", Type: custom("table<string, string|number|false>"), Doc: "NAME = value merged over haz.env; false removes NAME"},
		{Name: "clear_env", Type: booleanT, Default: "false", Doc: "start from an empty environment, then apply env"},
		{Name: "cwd", Type: stringT, Doc: "the child's working directory (default: the project root)"},
		{Name: "stdin", Type: custom(`"null"|"inherit"|"pipe"|haz.Process|haz.FileInput`), Default: `"null"`,
			Doc: `"null"; "inherit": hazlua's stdin (and the terminal); "pipe": for p:write(); a process spawned with stdout = "pipe"; or {file = path}`},
		{Name: "input", Type: stringT, Doc: "a string fed to stdin, which is then closed (instead of stdin)"},
		stdoutField(`"capture"`),
		{Name: "stderr", Type: custom(`"inherit"|"capture"|"null"|"stdout"|haz.FileOutput`), Default: `"inherit"`,
			Doc: `"inherit": the caller's output; "capture"; "null"; "stdout": where stdout goes (2>&1); or {file = path}`},
		{Name: "timeout", Type: durationT, Doc: "a duration from the start; then the group gets SIGTERM, and SIGKILL after the grace period"},
		{Name: "grace", Type: durationT, Doc: "the time between SIGTERM and SIGKILL (default: --grace, 5s)"},
		{Name: "job", Type: booleanT, Default: "true", Doc: "false: take no job slot (servers, helpers)"},
		{Name: "jobserver", Type: custom(`boolean|"pipe"|"fifo"`),
			Doc: `share -j with a nested make, ninja or cargo through the GNU make jobserver (MAKEFLAGS): true (the fifo form for ninja, the pipe form otherwise), "pipe" (fds 3 and 4), "fifo", or false (default: true when the program's base name is make, gmake, ninja or cargo, else false)`},
		{Name: "name", Type: textT, Doc: "the label in tostring(p), results and errors (default: the program's base name)"},
	},
}

var runOptions = spawnOptions.derive("haz.RunOptions", "a spawn table for haz.run: stdout is inherited, and a failure raises unless check = false", nil,
	stdoutField(`"inherit"`),
	Field{Name: "check", Type: booleanT, Default: "true", Doc: "false: return a failed result instead of raising"})

var outputOptions = runOptions.derive("haz.OutputOptions", "a spawn table for haz.output, which captures stdout", nil,
	Field{Name: "stdout", Type: custom("nil"), Default: `"capture"`, Doc: "cannot be set: haz.output captures stdout"})

var shOptions = runOptions.derive("haz.ShOptions", "the options of haz.sh: a spawn table without the program, its arguments or a list", []string{"[]", "program", "args"},
	Field{Name: "name", Type: textT, Default: `"sh"`, Doc: "the label in results and errors"})

var mutexOptions = &Options{Name: "haz.Mutex", Doc: "a task mutex held shared or exclusively", Fields: []Field{
	{Name: "name", Type: stringT, Required: true, Doc: "the mutex"},
	{Name: "shared", Type: booleanT, Default: "false", Doc: "shared holders may overlap each other, never an exclusive holder"},
}}

var taskOptions = &Options{
	Name: "haz.TaskOptions",
	Doc:  "a task declared by haz.task(name, opts)",
	Fields: []Field{
		{Name: "run", Type: Type{"fun(t: haz.Task)", checkFunction}, Doc: "the body, called as run(t); absent: an aggregate task, which only groups its dependencies"},
		{Name: "deps", Type: namesT, Doc: "tasks that must succeed first"},
		{Name: "desc", Type: stringT, Doc: "one line for --list"},
		{Name: "inputs", Type: namesT, Doc: "globs of the files the body reads, expanded when the task starts (t.inputs); with inputs, the task is skipped when up to date and restored from the cache when its fingerprint was seen before"},
		{Name: "outputs", Type: namesT, Doc: "paths or globs the body produces (t.outputs): each must exist after a success; stored in and restored from the cache"},
		{Name: "key", Type: stringT, Doc: "a string that is part of the task's fingerprint: tool versions, flags"},
		{Name: "env", Type: namesT, Doc: "names of environment variables whose values are part of the task's fingerprint"},
		{Name: "mutex", Type: custom("string|haz.Mutex"), Doc: "a mutex name (held exclusively), or {name = ..., shared = true}"},
		{Name: "tags", Type: namesT, Doc: "names whose running tasks haz.limit caps"},
		{Name: "timeout", Type: durationT, Doc: "the body's time limit"},
		{Name: "always", Type: booleanT, Default: "false", Doc: "never up to date, never restored from the cache"},
		{Name: "params", Type: custom("table<string, string|number|haz.Param>"), Doc: "parameters set on the command line after the task (hazlua deploy env=prod), read as t.params.env: name = default, or name = {default = ..., desc = ...}; one without a default is required"},
		{Name: "service", Type: booleanT, Default: "false", Doc: "a long-running task such as a dev server: never up to date, no outputs; in watch mode (hazlua -w) its dependents start once it has started, and it keeps running across reruns until its inputs change"},
	},
}

var paramOptions = &Options{Name: "haz.Param", Doc: "a task parameter", Fields: []Field{
	{Name: "default", Type: textT, Doc: "the value when the command line gives none (absent: the parameter is required)"},
	{Name: "desc", Type: stringT, Doc: "one line for --list"},
}}

var removeOptions = &Options{Name: "haz.RemoveOptions", Doc: "options of haz.fs.remove", Fields: []Field{
	{Name: "recursive", Type: booleanT, Default: "false", Doc: "remove a directory and everything under it (symlinks are unlinked, never followed)"},
}}

var encodeOptions = &Options{Name: "haz.EncodeOptions", Doc: "options of haz.json.encode", Fields: []Field{
	{Name: "indent", Type: custom("integer|string"), Doc: "a number of spaces from 0 to 16, or a string of spaces and tabs (default: compact)"},
}}

var envLoadOptions = &Options{Name: "haz.EnvLoadOptions", Doc: "options of haz.env.load", Fields: []Field{
	{Name: "override", Type: booleanT, Default: "false", Doc: "replace variables that are already set (by default they keep their value)"},
}}

var apiOptions = []*Options{spawnOptions, runOptions, outputOptions, shOptions, fileInput, fileOutput,
	taskOptions, mutexOptions, paramOptions, removeOptions, encodeOptions, envLoadOptions}

// The tables hazlua hands to scripts. Their keys are set by
// process.go (resultTable) and task.go (runTask); TestResultTables ties
// these declarations to the live tables.

var resultTable = &Options{Name: "haz.Result", Doc: "how a process ended: p:wait(), haz.run, haz.sh", Fields: []Field{
	{Name: "ok", Type: booleanT, Required: true, Doc: "true when the process exited with status 0 on its own: no signal, no timeout, no cancellation, no error; for a pipeline, every stage (one killed by SIGPIPE counts as ok)"},
	{Name: "code", Type: custom("integer"), Doc: "the exit code; nil when a signal ended the process"},
	{Name: "signal", Type: stringT, Doc: "the signal that ended the process, lower case without SIG (\"term\", \"kill\"); nil when it exited"},
	{Name: "timed_out", Type: booleanT, Required: true, Doc: "the timeout ended it"},
	{Name: "cancelled", Type: booleanT, Required: true, Doc: "hazlua's cancellation stopped it: a signal to hazlua, os.exit, a failed haz.parallel sibling, its owner ending"},
	{Name: "duration", Type: custom("number"), Required: true, Doc: "seconds from the start to the end"},
	{Name: "pid", Type: custom("integer"), Required: true, Doc: "the process id"},
	{Name: "name", Type: stringT, Required: true, Doc: "the label: name, or the program's base name"},
	{Name: "error", Type: stringT, Doc: "a failure of hazlua's own around the process: its output could not be stored, or it was stopped by SIGTTIN or SIGTTOU"},
	{Name: "stdout", Type: stringT, Doc: "the whole stdout, when captured (or an untaken pipe drained by wait)"},
	{Name: "stderr", Type: stringT, Doc: "the whole stderr, when captured"},
	{Name: "results", Type: custom("haz.Result[]"), Doc: "a pipeline's: one result per stage (the other fields are the last stage's)"},
}}

var taskArg = &Options{Name: "haz.Task", Doc: "the argument t of a task body", Fields: []Field{
	{Name: "name", Type: stringT, Required: true, Doc: "the task's name"},
	{Name: "inputs", Type: custom("string[]"), Required: true, Doc: "the task's inputs globs expanded when it started: sorted paths relative to the project root"},
	{Name: "outputs", Type: custom("string[]"), Required: true, Doc: "the task's outputs, as declared"},
	{Name: "params", Type: custom("table<string, string>"), Required: true, Doc: "the parameters' values: from the command line, or the defaults"},
	{Name: "log", Type: custom("fun(self: haz.Task, ...: any)"), Required: true, Doc: "t:log(...) writes its arguments, separated by spaces, as one line to the task's stderr"},
}}

var apiResults = []*Options{resultTable, taskArg}

// Functions.

// param is a parameter that must be given, optParam one that may not.
func param(name string, t Type, doc string) Field {
	return Field{Name: name, Type: t, Doc: doc, Required: true}
}

func optParam(name string, t Type, doc string) Field { return Field{Name: name, Type: t, Doc: doc} }

var pathParam = param("path", stringT, "a path (a number is converted)")

var apiFuncs = []*Func{
	// Processes.
	{Name: "haz.spawn", Params: []Field{param("spec", spawnOptions.Type(), "")}, Returns: "haz.Process",
		Doc: "starts a process and returns its handle at once", rtFn: (*Runtime).hazSpawn},
	{Name: "haz.run", Params: []Field{param("spec", runOptions.Type(), "")}, Returns: "haz.Result",
		Doc: "spawns with stdout inherited, waits, and raises unless the result is ok (or check = false)", rtFn: (*Runtime).hazRun},
	{Name: "haz.output", Params: []Field{param("spec", outputOptions.Type(), "")}, Returns: "string",
		Doc: "spawns with stdout captured, waits, raises unless ok, and returns stdout without its trailing newlines", rtFn: (*Runtime).hazOutput},
	{Name: "haz.sh", Params: []Field{param("cmd", stringT, "a shell command"), optParam("opts", shOptions.Type(), "")}, Returns: "haz.Result",
		Doc: "haz.run of sh -c cmd", rtFn: (*Runtime).hazSh},
	{Name: "haz.pipe", Params: []Field{param("...", spawnOptions.Type(), "the stages: only the first may set stdin or input, only the last stdout")}, Returns: "haz.Process",
		Doc: "starts a pipeline in one process group; stage i's stdout feeds stage i+1's stdin", rtFn: (*Runtime).hazPipe},

	// Concurrency.
	{Name: "haz.parallel", Params: []Field{optParam("...", custom("function|function[]"), "functions, or one list of functions")}, Returns: "any...",
		Doc: "runs the functions concurrently and returns the first value of each; when one raises, the others are cancelled", rtFn: (*Runtime).hazParallel},
	{Name: "haz.sleep", Params: []Field{param("duration", durationT, "seconds, or a string like \"250ms\"")},
		Doc: "blocks the calling thread only", rtFn: (*Runtime).hazSleep},

	// Tasks.
	{Name: "haz.task", Params: []Field{param("name", stringT, "a name unique in the script"), param("def", custom("function|haz.TaskOptions"), "the body, or the task's options")},
		Doc: "declares a task (at the top level only)", rtFn: (*Runtime).hazTask},
	{Name: "haz.limit", Params: []Field{param("tag", stringT, "a tag of haz.task's tags"), param("n", custom("integer"), "1 or more")},
		Doc: "lets at most n tasks tagged tag run at once", rtFn: (*Runtime).hazLimit},

	// Files, paths, globs.
	{Name: "haz.glob", Params: []Field{optParam("...", custom("string|string[]"), "patterns, or lists of patterns")}, Returns: "string[]",
		Doc: "the sorted, distinct paths matching any pattern (*, ?, [...], **, {a,b}; dotfiles only by a segment starting with \".\")", fn: hazGlob},
	{Name: "haz.fs.exists", Params: []Field{pathParam}, Returns: "boolean", Doc: "whether path exists (symlinks followed)", fn: fsExists},
	{Name: "haz.fs.isdir", Params: []Field{pathParam}, Returns: "boolean", Doc: "whether path is a directory (symlinks followed)", fn: fsIsDir},
	{Name: "haz.fs.read", Params: []Field{pathParam}, Returns: "string?, string?", Doc: "the whole file", fn: fsRead},
	{Name: "haz.fs.write", Params: []Field{pathParam, param("data", stringT, "the new contents")}, Returns: "true?, string?",
		Doc: "replaces the file's contents atomically", fn: fsWrite},
	{Name: "haz.fs.mkdir", Params: []Field{pathParam}, Returns: "true?, string?", Doc: "makes the directory and its missing parents", fn: fsMkdir},
	{Name: "haz.fs.remove", Params: []Field{pathParam, optParam("opts", removeOptions.Type(), "")}, Returns: "true?, string?",
		Doc: "removes a file, a symlink, or a directory with {recursive = true}; a missing path is success", fn: fsRemove},
	{Name: "haz.fs.copy", Params: []Field{param("src", stringT, "the file to copy"), param("dst", stringT, "the file to write")}, Returns: "true?, string?",
		Doc: "copies a file's contents and permission bits, atomically", fn: fsCopy},
	{Name: "haz.fs.mtime", Params: []Field{pathParam}, Returns: "number?, string?", Doc: "the modification time in seconds since the epoch", fn: fsMtime},
	{Name: "haz.path.join", Params: []Field{optParam("...", stringT, "path elements")}, Returns: "string", Doc: "the elements joined with \"/\" and cleaned", fn: pathJoin},
	{Name: "haz.path.base", Params: []Field{pathParam}, Returns: "string", Doc: "the last element", fn: pathUnary("haz.path.base", filepath.Base)},
	{Name: "haz.path.dir", Params: []Field{pathParam}, Returns: "string", Doc: "all but the last element", fn: pathUnary("haz.path.dir", filepath.Dir)},
	{Name: "haz.path.ext", Params: []Field{pathParam}, Returns: "string", Doc: "the extension, with its dot, or \"\"", fn: pathUnary("haz.path.ext", filepath.Ext)},
	{Name: "haz.path.abs", Params: []Field{pathParam}, Returns: "string?, string?", Doc: "the absolute, cleaned path", fn: pathAbs},
	{Name: "haz.path.rel", Params: []Field{param("base", stringT, ""), param("target", stringT, "")}, Returns: "string?, string?",
		Doc: "a path to target relative to base, lexically", fn: pathRel},

	// JSON.
	{Name: "haz.json.encode", Params: []Field{param("value", custom("any"), "nil, a boolean, a number, a string, haz.json.null or a table of these"), optParam("opts", encodeOptions.Type(), "")},
		Returns: "string", Doc: "deterministic JSON: sorted keys; a table with keys 1..n is an array", fn: jsonEncodeLua},
	{Name: "haz.json.decode", Params: []Field{param("text", stringT, "JSON text")}, Returns: "any, string?",
		Doc: "the value, with JSON null as haz.json.null; or nil and a message", fn: jsonDecodeLua},

	// Hashes.
	{Name: "haz.hash.file", Params: []Field{pathParam}, Returns: "string?, string?",
		Doc: "the SHA-256 of the file's contents (symlinks followed) as 64 hex digits: the hash hazlua's fingerprints use", fn: hashFile},
	{Name: "haz.hash.string", Params: []Field{param("s", stringT, "")}, Returns: "string",
		Doc: "the SHA-256 of s as 64 hex digits", fn: hashString},

	// Environment.
	{Name: "haz.env.load", Params: []Field{pathParam, optParam("opts", envLoadOptions.Type(), "")}, Returns: "table<string, string>?, string?",
		Doc: "sets the variables of a dotenv file (NAME=value lines) in haz.env, keeping those already set unless override; returns the file's variables, or nil and a message when it cannot be read; raises on a malformed line, naming it", fn: envLoad},
	{Name: "haz.which", Params: []Field{param("name", stringT, "a program name, or a path containing \"/\"")}, Returns: "string?",
		Doc: "the absolute path of the program found in PATH, or nil", fn: hazWhich},

	// Process methods.
	{Name: "haz.process:pid", Returns: "integer", Doc: "the pid of the (first) process, which is also the process group id", rtFn: (*Runtime).pPid},
	{Name: "haz.process:pids", Returns: "integer[]", Doc: "one pid per process: one for a spawn, one per stage of a pipe", rtFn: (*Runtime).pPids},
	{Name: "haz.process:signal", Params: []Field{param("sig", custom("string|integer"), "a name (\"term\", \"int\", \"kill\"...) or a number from 0 to 64")}, Returns: "boolean",
		Doc: "sends sig to the whole group; false when every process has exited", rtFn: (*Runtime).pSignal},
	{Name: "haz.process:wait", Params: []Field{optParam("timeout", durationT, "")}, Returns: "haz.Result?, string?",
		Doc: "waits for the end and returns the result; nil, \"timeout\" when not done in time", rtFn: (*Runtime).pWait},
	{Name: "haz.process:stdout", Returns: "string", Doc: "the whole stdout (\"capture\" or \"pipe\")", rtFn: (*Runtime).pStdout},
	{Name: "haz.process:stderr", Returns: "string", Doc: "the whole stderr (\"capture\"); waits for the process", rtFn: (*Runtime).pStderr},
	{Name: "haz.process:lines", Returns: "fun(): string?", Doc: "an iterator over the lines of stdout, as they arrive", rtFn: (*Runtime).pLines},
	{Name: "haz.process:write", Params: []Field{param("s", textT, "")}, Returns: "true?, string?",
		Doc: "writes to stdin = \"pipe\"; nil, \"broken pipe: ...\" when the child stopped reading", rtFn: (*Runtime).pWrite},
	{Name: "haz.process:close", Returns: "true", Doc: "closes stdin = \"pipe\", so the child sees end of file", rtFn: (*Runtime).pClose},
}

// Values.

func strValue(f func(rt *Runtime) string) func(*Runtime, *lua.LState) lua.LValue {
	return func(rt *Runtime, _ *lua.LState) lua.LValue { return lua.LString(f(rt)) }
}

var apiValues = []*Value{
	{Name: "haz.root", Type: stringT, Doc: "the project root: the script's directory, absolute, symlinks resolved",
		value: strValue(func(rt *Runtime) string { return rt.root })},
	{Name: "haz.invocation_dir", Type: stringT, Doc: "the directory hazlua was started in, after -C",
		value: strValue(func(rt *Runtime) string { return rt.cfg.InvocationDir })},
	{Name: "haz.jobs", Type: custom("integer"), Doc: "the -j value; 0 means no cap",
		value: func(rt *Runtime, _ *lua.LState) lua.LValue { return lua.LNumber(rt.cfg.Jobs) }},
	{Name: "haz.os", Type: stringT, Doc: "Go's GOOS: \"linux\"", value: strValue(func(*Runtime) string { return runtime.GOOS })},
	{Name: "haz.arch", Type: stringT, Doc: "Go's GOARCH: \"amd64\", \"arm64\"", value: strValue(func(*Runtime) string { return runtime.GOARCH })},
	{Name: "haz.version", Type: stringT, Doc: "hazlua's version (\"dev\" for a build from source)", value: strValue(func(*Runtime) string { return Version })},
	{Name: "haz.args", Type: custom("string[]"), Doc: "the arguments after -- on the command line",
		value: func(rt *Runtime, L *lua.LState) lua.LValue { return stringList(L, rt.cfg.Args) }},
	{Name: "haz.env", Type: custom("table<string, string>"), Doc: "hazlua's environment: read, assign (nil or false unsets), pairs(haz.env), haz.env() for a snapshot",
		value: func(rt *Runtime, L *lua.LState) lua.LValue { return newEnvTable(L, rt) }},
	{Name: "haz.json.null", Type: custom("userdata"), Doc: "JSON null, in both directions",
		value: func(_ *Runtime, L *lua.LState) lua.LValue { return jsonNull(L) }},
}
