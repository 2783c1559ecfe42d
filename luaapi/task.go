package luaapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/glob"
	"github.com/hazlua/hazlua/runner"
)

// defError raises a definition error (haz.task, haz.limit): if it ends
// the script, Run returns it as an *Error of KindDefinition.
func (rt *Runtime) defError(L *lua.LState, fname, format string, args ...any) {
	msg := fmt.Sprintf("%s: %s", fname, fmt.Sprintf(format, args...))
	if where := position(L); where != "" {
		msg = where + ": " + msg
	}
	rt.defErrors[msg] = true
	L.Error(lua.LString(msg), 0)
}

// position returns "build.lua:12", the nearest Lua function on the call
// stack (Go functions such as pcall are skipped), or "".
func position(L *lua.LState) string {
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return ""
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			return ""
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			return dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine)
		}
	}
}

// hazTask is haz.task(name, fn) or haz.task(name, opts).
func (rt *Runtime) hazTask(L *lua.LState) int {
	const fname = "haz.task"
	if threadOf(L) != rt.top {
		rt.defError(L, fname, "tasks are declared at the top level, not inside a task or a haz.parallel branch")
	}
	name, ok := L.Get(1).(lua.LString)
	if !ok || name == "" {
		rt.defError(L, fname, "argument #1 must be a task name (a non-empty string), not a %s", typeName(L.Get(1)))
	}
	t := &runner.Task{Name: string(name), Pos: position(L)}
	var fn *lua.LFunction // nil: an aggregate
	switch v := L.Get(2).(type) {
	case *lua.LFunction:
		fn = v
	case *lua.LTable:
		fn = rt.taskOptions(L, fname, v, t)
	case *lua.LNilType:
		rt.defError(L, fname, "task %q needs a function or an options table", t.Name)
	default:
		rt.defError(L, fname, "argument #2 must be a function or an options table, not a %s", typeName(v))
	}
	if fn != nil {
		t.Source = rt.definition(fn)
		t.Run = func(ctx context.Context, tc *runner.TaskContext) error { return rt.runTask(ctx, tc, fn) }
	}
	if err := rt.graph.Add(t); err != nil {
		var ge *runner.GraphError
		if errors.As(err, &ge) {
			rt.defError(L, fname, "%s", ge.Msg) // defError adds the position
		}
		rt.defError(L, fname, "%v", err)
	}
	return 0
}

// taskOptions reads the options table o of task t (see taskOptions in
// api.go) and returns the body. Its errors are definition errors.
func (rt *Runtime) taskOptions(L *lua.LState, fname string, o *lua.LTable, t *runner.Task) *lua.LFunction {
	at := &site{L: L, where: fname, task: t.Name, defs: rt}
	opts, has := taskOptions.bindPresent(at, o)
	// An absent key reads as its default, which is t's zero value: only
	// the keys the table has are read.
	var fn *lua.LFunction
	if has&taskKey.run != 0 {
		fn = opts.function("run")
	}
	if has&taskKey.deps != 0 {
		t.Deps = opts.names("deps")
	}
	if has&taskKey.desc != 0 {
		t.Desc, _ = opts.str("desc")
	}
	if has&taskKey.inputs != 0 {
		t.Inputs = opts.names("inputs")
		if t.Inputs == nil {
			t.Inputs = []string{} // inputs = {}: a fingerprint without files
		}
	}
	if has&taskKey.outputs != 0 {
		t.Outputs = opts.names("outputs")
	}
	if has&(taskKey.inputs|taskKey.outputs) != 0 {
		if err := glob.Check(append(append([]string(nil), t.Inputs...), t.Outputs...)); err != nil {
			at.raise("%v", err)
		}
	}
	if has&taskKey.key != 0 {
		t.Key, _ = opts.str("key")
	}
	if has&taskKey.env != 0 {
		t.Env = opts.names("env")
		for _, name := range t.Env {
			if name == "" || strings.ContainsAny(name, "=\x00") {
				at.raise("env: %q is not an environment variable name", name)
			}
		}
	}
	if has&taskKey.tags != 0 {
		t.Tags = opts.names("tags")
	}
	if has&taskKey.mutex != 0 {
		switch v := opts.value("mutex").(type) {
		case lua.LString:
			t.Mutex = string(v)
		case *lua.LTable:
			m := mutexOptions.bind(at.in("mutex"), v)
			t.Mutex, _ = m.str("name")
			t.MutexShared = m.boolean("shared")
		default:
			at.raise("mutex must be a name or {name = ..., shared = true}, not a %s", typeName(v))
		}
	}
	if has&taskKey.timeout != 0 {
		t.Timeout = opts.duration("timeout")
	}
	if has&taskKey.always != 0 {
		t.Always = opts.boolean("always")
	}
	if has&taskKey.params != 0 {
		t.Params = taskParams(at.in("params"), opts.value("params"))
	}
	if has&taskKey.service != 0 && opts.boolean("service") {
		if len(t.Outputs) > 0 {
			at.raise("a service (service = true) has no outputs")
		}
		t.Service, t.Always = true, true
	}
	return fn
}

// taskParams reads a task's params table: name = default (a string or a
// number), or name = {default = ..., desc = ...}, sorted by name. A
// parameter without a default is required.
func taskParams(at *site, v lua.LValue) []runner.Param {
	tbl, ok := v.(*lua.LTable)
	if !ok {
		at.raise("must be a table of name = default or name = {default = ..., desc = ...}, not a %s", typeName(v))
	}
	var params []runner.Param
	tbl.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		if !ok || !isParamName(string(name)) {
			at.raise("%s is not a parameter name (letters, digits, _ and -, not first)", keyName(k))
		}
		p := runner.Param{Name: string(name)}
		switch v := v.(type) {
		case lua.LString, lua.LNumber:
			p.Default = v.String()
		case *lua.LTable:
			o := paramOptions.bind(at.in(string(name)), v)
			var has bool
			p.Default, has = o.str("default")
			p.Desc, _ = o.str("desc")
			p.Required = !has
		default:
			at.raise("%s must be a default (a string or a number) or {default = ..., desc = ...}, not a %s", string(name), typeName(v))
		}
		params = append(params, p)
	})
	slices.SortFunc(params, func(a, b runner.Param) int { return strings.Compare(a.Name, b.Name) })
	return params
}

// isParamName reports whether s can name a parameter on the command line:
// NAME=VALUE must not be taken for anything else.
func isParamName(s string) bool {
	if s == "" || s[0] == '-' || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// taskKey holds the bit of each of taskOptions' keys in the set
// bindPresent returns.
var taskKey = struct {
	run, deps, desc, inputs, outputs, key, env, mutex, tags, timeout, always, params, service uint64
}{
	run: taskOptions.bit("run"), deps: taskOptions.bit("deps"), desc: taskOptions.bit("desc"),
	inputs: taskOptions.bit("inputs"), outputs: taskOptions.bit("outputs"), key: taskOptions.bit("key"),
	env: taskOptions.bit("env"), mutex: taskOptions.bit("mutex"), tags: taskOptions.bit("tags"),
	timeout: taskOptions.bit("timeout"), always: taskOptions.bit("always"), params: taskOptions.bit("params"),
	service: taskOptions.bit("service"),
}

// hazLimit is haz.limit(tag, n): at most n tasks tagged tag run at once.
func (rt *Runtime) hazLimit(L *lua.LState) int {
	const fname = "haz.limit"
	if threadOf(L) != rt.top {
		rt.defError(L, fname, "limits are set at the top level")
	}
	tag, ok := L.Get(1).(lua.LString)
	if !ok || tag == "" {
		rt.defError(L, fname, "argument #1 must be a tag name, not a %s", typeName(L.Get(1)))
	}
	n, ok := L.Get(2).(lua.LNumber)
	if !ok || float64(n) != float64(int(n)) || n < 1 {
		rt.defError(L, fname, "argument #2 must be a whole number of tasks, 1 or more, not %s", L.Get(2).String())
	}
	if err := rt.graph.Limit(string(tag), int(n)); err != nil {
		var ge *runner.GraphError
		if errors.As(err, &ge) {
			rt.defError(L, fname, "%s", ge.Msg)
		}
		rt.defError(L, fname, "%v", err)
	}
	return 0
}

// taskError is a task body's failure: the Lua error message, which starts
// with the script position where it was raised.
type taskError struct {
	msg        string
	definition bool // haz.task or haz.limit misused in the body: exit 2
}

func (e *taskError) Error() string { return e.msg }

// runTask runs a task body on a Lua thread of its own, made now (not when
// the task was declared) so that declaring many tasks stays cheap.
func (rt *Runtime) runTask(ctx context.Context, tc *runner.TaskContext, fn *lua.LFunction) error {
	if rt.watch != nil {
		if done, err := rt.watch.intercept(rt, tc, fn); done {
			return err
		}
	}
	return rt.runBody(ctx, tc, fn, true)
}

// runBody runs a task body; jobs says whether its spawns take job slots.
func (rt *Runtime) runBody(ctx context.Context, tc *runner.TaskContext, fn *lua.LFunction, jobs bool) error {
	sink := tc.Sink()
	th := &thread{jobs: jobs, task: tc.Name(), sink: sink, stdout: sink.Stdout(), stderr: sink.Stderr()}
	th.outMu = &th.out
	rt.lock()
	defer rt.unlock()
	L := rt.taskThread(ctx, th)
	L.G.CurrentThread = L
	t := L.CreateTable(0, 5)
	t.RawSetString("name", lua.LString(tc.Name()))
	t.RawSetString("inputs", stringList(L, tc.Inputs()))
	t.RawSetString("outputs", stringList(L, tc.Task().Outputs))
	params := L.CreateTable(0, len(tc.Task().Params))
	for _, p := range tc.Task().Params {
		params.RawSetString(p.Name, lua.LString(p.Value))
	}
	t.RawSetString("params", params)
	if rt.logFn == nil {
		rt.logFn = L.NewFunction(rt.taskLog)
	}
	t.RawSetString("log", rt.logFn)
	if _, err := call(L, fn, 0, t); err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), errStopped) {
			return ctx.Err()
		}
		msg := errorMessage(L, err)
		def := rt.defErrors[msg]
		// The VM raises Go's words when a context ends in a busy loop.
		if to, ok := context.Cause(ctx).(*runner.TimeoutError); ok {
			msg = strings.Replace(msg, context.DeadlineExceeded.Error(), fmt.Sprintf("timed out after %s", to.Timeout), 1)
		}
		msg = strings.Replace(msg, context.Canceled.Error(), "cancelled", 1)
		return &taskError{msg: msg, definition: def}
	}
	rt.release(L)
	return nil
}

func stringList(L *lua.LState, items []string) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, s := range items {
		t.Append(lua.LString(s))
	}
	return t
}

// taskLog is t:log(...): one line on the task's stderr sink.
func (rt *Runtime) taskLog(L *lua.LState) int {
	w := threadOf(L).stderr
	if w == nil {
		w = rt.cfg.Stderr
	}
	rt.writeLine(w, argsLine(L, 2, ' '))
	return 0
}
