package luaapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/proc"
)

// write writes s to the calling thread's stdout (a task's sink, or
// hazlua's stdout at the top level). A closed stdout stops the run.
func (rt *Runtime) write(L *lua.LState, s string) {
	t := threadOf(L)
	w := t.stdout
	if w == nil {
		w = rt.cfg.Stdout
	}
	if t.outMu != nil {
		t.outMu.Lock()
		defer t.outMu.Unlock()
	}
	rt.writeLine(w, s)
}

// argsLine returns the arguments from n on, each through tostring,
// separated by sep, as one line.
func argsLine(L *lua.LState, n int, sep byte) string {
	var b strings.Builder
	for i := n; i <= L.GetTop(); i++ {
		if i > n {
			b.WriteByte(sep)
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	b.WriteByte('\n')
	return b.String()
}

// luaPrint is print(...), writing to the thread's stdout.
func (rt *Runtime) luaPrint(L *lua.LState) int {
	rt.write(L, argsLine(L, 1, '\t'))
	return 0
}

// luaIOWrite is io.write(...), writing to the thread's stdout.
func (rt *Runtime) luaIOWrite(L *lua.LState) int {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(v.String())
		default:
			L.ArgError(i, "string expected, got "+typeName(v))
		}
	}
	rt.write(L, b.String())
	L.Push(L.GetField(L.GetGlobal("io"), "stdout"))
	return 1
}

// luaExit is os.exit([code]): the run ends through hazlua's shutdown
// (cancel, terminate every process group, exit with code).
func (rt *Runtime) luaExit(L *lua.LState) int {
	code := exitSuccess
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if !v {
			code = exitFailure
		}
	case lua.LNumber:
		code = int(v) & 0xff
	default:
		raise(L, "os.exit", "code must be a number or a boolean, not a %s", typeName(v))
	}
	rt.exit(code)
	L.RaiseError("os.exit(%d)", code)
	return 0
}

// shStage is `sh -c cmd`, for os.execute and io.popen.
func (rt *Runtime) shStage(cmd string) *stage {
	return &stage{
		spec: proc.Spec{Path: "/bin/sh", Args: []string{"sh", "-c", cmd}, Env: os.Environ(), Name: "sh"},
		job:  true, inKind: "null", outKind: "inherit", errKind: "inherit",
	}
}

// luaExecute is os.execute([cmd]): sh -c cmd through proc, stdin null,
// stdout and stderr to the thread's sink; returns the exit code, 128+n
// when killed by signal n.
func (rt *Runtime) luaExecute(L *lua.LState) int {
	const fname = "os.execute"
	if L.GetTop() == 0 || L.Get(1) == lua.LNil {
		L.Push(lua.LNumber(1)) // a shell is available
		return 1
	}
	cmd := L.CheckString(1)
	if strings.IndexByte(cmd, 0) >= 0 {
		raise(L, fname, "command contains a NUL byte")
	}
	st := rt.shStage(cmd)
	st.spec.Stdout.Kind = proc.OutWriter
	st.spec.Stderr.Kind = proc.OutWriter
	st.awaited = true
	p := rt.start(L, fname, []*stage{st})
	p.wait(L, fname, 0)
	r := p.last().Result()
	code := r.Code
	if r.Signal != 0 {
		code = 128 + int(r.Signal)
	}
	L.Push(lua.LNumber(code))
	return 1
}

// popenTypeName is the metatable name of io.popen's files.
const popenTypeName = "haz.popen"

// popenFile is a file returned by io.popen: the read end of the child's
// stdout ("r") or the write end of its stdin ("w").
type popenFile struct {
	p      *process
	mode   string
	src    *stdoutReader // "r": the pipe, or its capture if it ended first
	br     *bufio.Reader // "r"
	closed bool
	busy   bool // a read waits with the Lua lock released
}

// luaPopen is io.popen(cmd [, mode]): sh -c cmd through proc.
func (rt *Runtime) luaPopen(L *lua.LState) int {
	const fname = "io.popen"
	cmd := L.CheckString(1)
	mode := L.OptString(2, "r")
	if mode != "r" && mode != "w" {
		raise(L, fname, "mode must be \"r\" or \"w\", not %q", mode)
	}
	if strings.IndexByte(cmd, 0) >= 0 {
		raise(L, fname, "command contains a NUL byte")
	}
	st := rt.shStage(cmd)
	if mode == "r" {
		st.spec.Stdout.Kind, st.outKind = proc.OutPipe, "pipe"
	} else {
		st.spec.Stdin.Kind, st.inKind = proc.InPipe, "pipe"
		st.spec.Stdout.Kind = proc.OutWriter
	}
	st.spec.Stderr.Kind = proc.OutWriter
	st.awaited = true
	p := rt.start(L, fname, []*stage{st})
	f := &popenFile{p: p, mode: mode}
	if mode == "r" {
		if r, err := p.last().TakeStdout(); err == nil {
			f.src = &stdoutReader{pipe: r}
		} else if c := p.last().StdoutCapture(); c != nil {
			// It ended already, and its pipe was read into memory.
			f.src = &stdoutReader{rest: c.NewReader()}
		} else {
			raise(L, fname, "%v", err)
		}
		f.br = bufio.NewReaderSize(f.src, 64<<10)
	}
	ud := L.NewUserData()
	ud.Value = f
	L.SetMetatable(ud, L.GetTypeMetatable(popenTypeName))
	L.Push(ud)
	return 1
}

func (rt *Runtime) newPopenMeta(L *lua.LState) {
	mt := L.NewTypeMetatable(popenTypeName)
	methods := L.CreateTable(0, 6)
	methods.RawSetString("read", L.NewFunction(rt.popenRead))
	methods.RawSetString("lines", L.NewFunction(rt.popenLines))
	methods.RawSetString("write", L.NewFunction(rt.popenWrite))
	methods.RawSetString("close", L.NewFunction(rt.popenClose))
	methods.RawSetString("flush", L.NewFunction(fileFlush))
	methods.RawSetString("setvbuf", L.NewFunction(fileSetvbuf))
	L.SetField(mt, "__index", methods)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		f := checkPopen(L, "tostring")
		state := "open"
		if f.closed {
			state = "closed"
		}
		L.Push(lua.LString("file (popen " + f.p.describe() + ", " + state + ")"))
		return 1
	}))
}

func checkPopen(L *lua.LState, method string) *popenFile {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if f, ok := ud.Value.(*popenFile); ok {
			return f
		}
	}
	L.RaiseError("file:%s: expected a file from io.popen, got a %s", method, typeName(L.Get(1)))
	return nil
}

// popenRead is f:read(...) with the formats of Lua 5.1–5.4: "a", "l",
// "L", "n" (with or without "*") and a byte count.
func (rt *Runtime) popenRead(L *lua.LState) int {
	f := checkPopen(L, "read")
	if f.mode != "r" || f.closed {
		raise(L, "file:read", "file is not open for reading")
	}
	formats := []lua.LValue{lua.LString("l")}
	if L.GetTop() > 1 {
		formats = nil
		for i := 2; i <= L.GetTop(); i++ {
			formats = append(formats, L.Get(i))
		}
	}
	n := 0
	for _, fmtv := range formats {
		v, err := rt.popenReadOne(L, "file:read", f, fmtv)
		if err != nil {
			if isCancel(err) {
				raise(L, "file:read", "cancelled")
			}
			L.Push(lua.LNil)
			L.Push(lua.LString(err.Error()))
			return n + 2
		}
		L.Push(v)
		n++
		if v == lua.LNil {
			break
		}
	}
	return n
}

// popenReadOne reads one value of format from f, with the Lua lock
// released. It raises when another thread is reading f, and when f was
// closed meanwhile.
func (rt *Runtime) popenReadOne(L *lua.LState, fname string, f *popenFile, format lua.LValue) (lua.LValue, error) {
	if f.busy {
		raise(L, fname, "the file is already being read in another thread")
	}
	var out lua.LValue = lua.LNil
	var err error
	read := func(do func() (lua.LValue, error)) {
		f.busy = true
		rt.block(L, func(ctx context.Context) {
			f.src.ctx = ctx
			out, err = do()
		})
		f.busy = false
		if f.closed {
			raise(L, fname, "file was closed while reading")
		}
	}
	if num, ok := format.(lua.LNumber); ok {
		size := int(num)
		read(func() (lua.LValue, error) {
			if size <= 0 {
				if _, err := f.br.Peek(1); err != nil {
					return lua.LNil, nil
				}
				return lua.LString(""), nil
			}
			buf := make([]byte, size)
			n, err := io.ReadFull(f.br, buf)
			if n == 0 {
				return lua.LNil, ignoreEOF(err)
			}
			return lua.LString(buf[:n]), ignoreEOF(err)
		})
		return out, err
	}
	spec := strings.TrimPrefix(lua.LVAsString(format), "*")
	switch {
	case strings.HasPrefix(spec, "a"):
		read(func() (lua.LValue, error) {
			b, err := io.ReadAll(f.br)
			return lua.LString(b), err
		})
	case strings.HasPrefix(spec, "l"), strings.HasPrefix(spec, "L"):
		keep := spec[0] == 'L'
		read(func() (lua.LValue, error) {
			line, err := f.br.ReadString('\n')
			if err == io.EOF && line == "" {
				return lua.LNil, nil
			}
			if !keep {
				line = strings.TrimSuffix(line, "\n")
			}
			return lua.LString(line), ignoreEOF(err)
		})
	case strings.HasPrefix(spec, "n"):
		read(func() (lua.LValue, error) {
			var x float64
			if _, err := fmt.Fscan(f.br, &x); err != nil {
				return lua.LNil, nil
			}
			return lua.LNumber(x), nil
		})
	default:
		L.ArgError(2, "invalid format "+strconv.Quote(lua.LVAsString(format)))
	}
	return out, err
}

func ignoreEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

func (rt *Runtime) popenLines(L *lua.LState) int {
	f := checkPopen(L, "lines")
	if f.mode != "r" || f.closed {
		raise(L, "file:lines", "file is not open for reading")
	}
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if f.closed {
			raise(L, "file:lines", "file is closed")
		}
		v, err := rt.popenReadOne(L, "file:lines", f, lua.LString("l"))
		if isCancel(err) {
			raise(L, "file:lines", "cancelled")
		}
		if err != nil {
			raise(L, "file:lines", "%v", err)
		}
		L.Push(v)
		return 1
	}))
	return 1
}

func (rt *Runtime) popenWrite(L *lua.LState) int {
	f := checkPopen(L, "write")
	if f.mode != "w" || f.closed {
		raise(L, "file:write", "file is not open for writing")
	}
	var b strings.Builder
	for i := 2; i <= L.GetTop(); i++ {
		b.WriteString(L.CheckString(i))
	}
	w := f.p.first().Stdin()
	var err error
	rt.block(L, func(ctx context.Context) { _, err = proc.WriteStringContext(ctx, w, b.String()) })
	if isCancel(err) {
		raise(L, "file:write", "cancelled while writing")
	}
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("broken pipe: " + f.p.describe() + " stopped reading"))
		return 2
	}
	L.Push(L.Get(1))
	return 1
}

// popenClose is f:close(): it ends the child's input or output and waits
// for it; it returns true, "exit", 0 on success, else nil, "exit", code or
// nil, "signal", n (as Lua 5.2+).
func (rt *Runtime) popenClose(L *lua.LState) int {
	f := checkPopen(L, "close")
	if f.closed {
		raise(L, "file:close", "file is already closed")
	}
	f.closed = true
	if f.mode == "r" {
		f.src.close()
	} else {
		f.p.first().CloseStdin()
	}
	f.p.wait(L, "file:close", 0)
	r := f.p.last().Result()
	if r.Signal != 0 {
		L.Push(lua.LNil)
		L.Push(lua.LString("signal"))
		L.Push(lua.LNumber(int(r.Signal)))
		return 3
	}
	if r.Code == 0 {
		L.Push(lua.LTrue)
	} else {
		L.Push(lua.LNil)
	}
	L.Push(lua.LString("exit"))
	L.Push(lua.LNumber(r.Code))
	return 3
}

// sinkFileTypeName is the metatable name of io.stdout and io.stderr inside
// a task: files that write to the task's output sink.
const sinkFileTypeName = "haz.sinkfile"

// sinkFile is io.stdout or io.stderr of a task.
type sinkFile struct {
	stderr bool
}

// routeStdFiles makes io.stdout and io.stderr depend on the calling thread:
// hazlua's own files at the top level, the task's sink inside a task.
func (rt *Runtime) routeStdFiles(L *lua.LState, io *lua.LTable) {
	origOut, origErr := io.RawGetString("stdout"), io.RawGetString("stderr")
	io.RawSetString("stdout", lua.LNil)
	io.RawSetString("stderr", lua.LNil)
	mt := L.NewTypeMetatable(sinkFileTypeName)
	write := func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		f, ok := ud.Value.(*sinkFile)
		if !ok {
			L.ArgError(1, "file expected")
		}
		var b strings.Builder
		for i := 2; i <= L.GetTop(); i++ {
			switch v := L.Get(i).(type) {
			case lua.LString, lua.LNumber:
				b.WriteString(v.String())
			default:
				L.ArgError(i, "string expected, got "+typeName(v))
			}
		}
		th := threadOf(L)
		w := th.stdout
		if f.stderr {
			w = th.stderr
		}
		rt.writeLine(w, b.String())
		L.Push(ud)
		return 1
	}
	index := L.CreateTable(0, 4)
	index.RawSetString("write", L.NewFunction(write))
	index.RawSetString("flush", L.NewFunction(fileFlush))
	index.RawSetString("setvbuf", L.NewFunction(fileSetvbuf))
	index.RawSetString("close", L.NewFunction(func(L *lua.LState) int {
		raise(L, "file:close", "a task's standard output cannot be closed")
		return 0
	}))
	L.SetField(mt, "__index", index)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("file (task output)"))
		return 1
	}))
	sinkFileValue := func(stderr bool) *lua.LUserData {
		ud := L.NewUserData()
		ud.Value = &sinkFile{stderr: stderr}
		L.SetMetatable(ud, mt)
		return ud
	}
	sinkOut, sinkErr := sinkFileValue(false), sinkFileValue(true)
	iomt := L.CreateTable(0, 1)
	L.SetField(iomt, "__index", L.NewFunction(func(L *lua.LState) int {
		var orig, sink lua.LValue
		switch L.CheckString(2) {
		case "stdout":
			orig, sink = origOut, sinkOut
		case "stderr":
			orig, sink = origErr, sinkErr
		default:
			L.Push(lua.LNil)
			return 1
		}
		if threadOf(L).sink != nil {
			L.Push(sink)
		} else {
			L.Push(orig)
		}
		return 1
	}))
	L.SetMetatable(io, iomt)
}

// fileFlush is f:flush() of the files hazlua makes (io.popen's, a task's
// io.stdout and io.stderr): nothing to flush; it returns f.
func fileFlush(L *lua.LState) int { L.Push(L.Get(1)); return 1 }

// fileSetvbuf is f:setvbuf() of the files hazlua makes: it returns true.
func fileSetvbuf(L *lua.LState) int { L.Push(lua.LTrue); return 1 }
