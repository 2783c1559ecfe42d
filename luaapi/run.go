package luaapi

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// hazSpawn is haz.spawn(spec) → process.
func (rt *Runtime) hazSpawn(L *lua.LState) int {
	const fname = "haz.spawn"
	t := checkTable(L, 1, fname, "a spawn table like {\"cc\", \"-c\", \"a.c\"}")
	at := newSite(L, fname)
	st := rt.parseStage(at, spawnOptions.bind(at, t))
	L.Push(rt.newProcessValue(L, rt.start(L, fname, []*stage{st})))
	return 1
}

// hazRun is haz.run(spec): spawn with stdout inherited, wait, raise unless
// ok (or check = false), return the result.
func (rt *Runtime) hazRun(L *lua.LState) int {
	const fname = "haz.run"
	t := checkTable(L, 1, fname, "a spawn table like {\"cc\", \"-c\", \"a.c\"}")
	L.Push(rt.runTable(L, fname, t, runOptions))
	return 1
}

// runTable spawns the stage in t, which o declares (runOptions, or one
// derived from it), waits, and raises unless ok (or check = false).
func (rt *Runtime) runTable(L *lua.LState, fname string, t *lua.LTable, o *Options) *lua.LTable {
	at := newSite(L, fname)
	opts := o.bind(at, t)
	st := rt.parseStage(at, opts)
	st.awaited = true // waited for at once, below
	check := opts.boolean("check")
	p := rt.start(L, fname, []*stage{st})
	p.wait(L, fname, 0)
	res := p.resultTable(L)
	if check && !lua.LVAsBool(res.RawGetString("ok")) {
		L.RaiseError("%s", failureMessage(fname, p, res))
	}
	return res
}

// failureMessage says why a process failed: the name of the stage that
// failed (proc.Group.FailedStage), its exit code, signal or timeout, and
// the last lines of its stderr when captured.
func failureMessage(fname string, p *process, res *lua.LTable) string {
	var b strings.Builder
	r := p.last().Result()
	if f := p.g.FailedStage(); f != nil {
		r = f.Result()
	}
	fmt.Fprintf(&b, "%s: %q %s", fname, r.Name, r.String())
	if r.Code > 0 && r.Signal == 0 && !r.TimedOut && !r.Cancelled {
		b.Reset()
		fmt.Fprintf(&b, "%s: %q exited with status %d", fname, r.Name, r.Code)
	}
	if s, ok := res.RawGetString("stderr").(lua.LString); ok && s != "" {
		b.WriteString("\nlast lines of stderr:")
		for _, line := range lastLines(string(s), 10) {
			b.WriteString("\n  ")
			b.WriteString(line)
		}
	}
	return b.String()
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) []string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// hazOutput is haz.output(spec): spawn with stdout captured, wait, raise
// unless ok, return stdout without its trailing newlines.
func (rt *Runtime) hazOutput(L *lua.LState) int {
	const fname = "haz.output"
	t := checkTable(L, 1, fname, "a spawn table like {\"git\", \"rev-parse\", \"HEAD\"}")
	if t.RawGetString("stdout") != lua.LNil {
		raise(L, fname, "stdout cannot be set: haz.output captures it")
	}
	res := rt.runTable(L, fname, t, outputOptions)
	out, _ := res.RawGetString("stdout").(lua.LString)
	L.Push(lua.LString(strings.TrimRight(string(out), "\n")))
	return 1
}

// hazSh is haz.sh(cmd [, spec]): haz.run of sh -c cmd.
func (rt *Runtime) hazSh(L *lua.LState) int {
	const fname = "haz.sh"
	cmd, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, fname, "argument #1 must be a command string, not a %s", typeName(L.Get(1)))
	}
	t := L.NewTable()
	opts := bound{shOptions, nil}
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		o := checkTable(L, 2, fname, "a table of spawn options")
		if o.RawGetString("program") != lua.LNil || o.RawGetString("args") != lua.LNil || o.RawGetInt(1) != lua.LNil {
			raise(L, fname, "the command is argument #1; options cannot set program, args or a list")
		}
		opts = shOptions.bind(newSite(L, fname), o)
		o.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
	}
	t.RawSetInt(1, lua.LString("sh"))
	t.RawSetInt(2, lua.LString("-c"))
	t.RawSetInt(3, cmd)
	if name, given := opts.str("name"); !given {
		t.RawSetString("name", lua.LString(name))
	}
	L.Push(rt.runTable(L, fname, t, runOptions))
	return 1
}

// hazPipe is haz.pipe(spec1, spec2, ...): one pipeline in one process
// group.
func (rt *Runtime) hazPipe(L *lua.LState) int {
	const fname = "haz.pipe"
	n := L.GetTop()
	if n < 1 {
		raise(L, fname, "give at least one stage")
	}
	stages := make([]*stage, n)
	for i := 1; i <= n; i++ {
		at := newSite(L, fmt.Sprintf("%s stage %d", fname, i))
		t := checkTable(L, i, fname, "a spawn table")
		if i > 1 && (t.RawGetString("stdin") != lua.LNil || t.RawGetString("input") != lua.LNil) {
			at.raise("only the first stage may set stdin or input")
		}
		if i < n && t.RawGetString("stdout") != lua.LNil {
			at.raise("only the last stage may set stdout")
		}
		stages[i-1] = rt.parseStage(at, spawnOptions.bind(at, t))
	}
	p := rt.start(L, fname, stages)
	p.isPipe = true
	L.Push(rt.newProcessValue(L, p))
	return 1
}
