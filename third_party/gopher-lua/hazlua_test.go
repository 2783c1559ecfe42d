package lua

// Tests of hazlua's changes (see HAZLUA.md).

import (
	"fmt"
	"strings"
	"testing"
)

// hazluaState is a state with hazlua's options (luaapi/runtime.go), or a
// fixed call stack of size frames when growable is false.
func hazluaState(size int, growable bool) *LState {
	return NewState(Options{
		RegistrySize:        1024,
		RegistryMaxSize:     1 << 22,
		RegistryGrowStep:    1 << 14,
		CallStackSize:       size,
		MinimizeStackMemory: growable,
	})
}

// hazluaRun runs src and returns its results as strings, or the error.
func hazluaRun(t *testing.T, L *LState, src string) ([]string, error) {
	t.Helper()
	top := L.GetTop()
	if err := L.DoString(src); err != nil {
		return nil, err
	}
	var out []string
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i).String())
	}
	L.SetTop(top)
	return out, nil
}

func TestHazluaAutoGrowingStackSegmentBoundary(t *testing.T) {
	cs := newAutoGrowingCallFrameStack(4 * FramesPerSegment)
	for i := 0; i < FramesPerSegment; i++ {
		cs.Push(callFrame{})
	}
	// The first segment is full and the second does not exist yet.
	cs.SetSp(FramesPerSegment)
	if got := cs.Sp(); got != FramesPerSegment {
		t.Fatalf("after SetSp(%d) on a full first segment: Sp() = %d", FramesPerSegment, got)
	}
	if got := cs.Last().Idx; got != FramesPerSegment-1 {
		t.Fatalf("Last().Idx = %d, want %d", got, FramesPerSegment-1)
	}
	for i := 0; i < 3*FramesPerSegment-1; i++ {
		cs.Push(callFrame{})
	}
	if cs.IsFull() {
		t.Fatalf("full at %d of %d frames", cs.Sp(), 4*FramesPerSegment)
	}
	cs.Push(callFrame{})
	if !cs.IsFull() {
		t.Fatalf("not full at %d of %d frames", cs.Sp(), 4*FramesPerSegment)
	}
	for _, sp := range []int{3 * FramesPerSegment, 2*FramesPerSegment + 3, FramesPerSegment, 1, 0} {
		cs.SetSp(sp)
		if cs.Sp() != sp {
			t.Fatalf("SetSp(%d): Sp() = %d", sp, cs.Sp())
		}
		if sp > 0 && cs.Last().Idx != sp-1 {
			t.Fatalf("SetSp(%d): Last().Idx = %d", sp, cs.Last().Idx)
		}
		for i := 0; i < sp; i++ {
			if cs.At(i).Idx != i {
				t.Fatalf("SetSp(%d): At(%d).Idx = %d", sp, i, cs.At(i).Idx)
			}
		}
	}
	if !cs.IsEmpty() {
		t.Fatal("not empty after SetSp(0)")
	}
}

// Infinite recursion through pcall ends at the stack limit with the stack
// intact, whatever the limit's place in a segment.
func TestHazluaPcallRecursionAtTheLimit(t *testing.T) {
	scripts := []struct{ src, want string }{
		{`local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end
		  local ok, e = pcall(f) return tostring(ok) .. " " .. e`, "false <string>:1: stack overflow"},
		{`local function f() return 1 + select(2, pcall(f)) end
		  local ok, e = pcall(f) return tostring(ok) .. " " .. e`, "false <string>:1: cannot perform add operation between number and string"},
	}
	for _, growable := range []bool{false, true} {
		for _, size := range []int{200, 201, 207, 208, 209, 1000} {
			for i, s := range scripts {
				t.Run(fmt.Sprintf("growable=%v/size=%d/%d", growable, size, i), func(t *testing.T) {
					L := hazluaState(size, growable)
					defer L.Close()
					out, err := hazluaRun(t, L, s.src)
					if err != nil {
						t.Fatal(err)
					}
					if len(out) != 1 || out[0] != s.want {
						t.Fatalf("got %q, want %q", out, s.want)
					}
					// The state is still sound.
					out, err = hazluaRun(t, L, `local function g(n) if n == 0 then return 0 end return 1 + g(n - 1) end return g(50)`)
					if err != nil || len(out) != 1 || out[0] != "50" {
						t.Fatalf("afterwards: got %q, %v", out, err)
					}
				})
			}
		}
	}
}

func TestHazluaDeepRecursion(t *testing.T) {
	L := hazluaState(200000, true)
	defer L.Close()
	out, err := hazluaRun(t, L, `local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(100000)`)
	if err != nil || len(out) != 1 || out[0] != "100000" {
		t.Fatalf("100,000-deep recursion: got %q, %v", out, err)
	}
	_, err = hazluaRun(t, L, "local function f() return 1 + f() end\nf()")
	if err == nil || !strings.HasPrefix(err.Error(), "<string>:1: stack overflow\n") {
		t.Fatalf("infinite recursion: got %v, want <string>:1: stack overflow and a traceback", err)
	}
	out, err = hazluaRun(t, L, `local function f(n) if n == 0 then return 0 end local ok, v = pcall(f, n - 1) return v + 1 end return f(5000)`)
	if err != nil || len(out) != 1 || out[0] != "5000" {
		t.Fatalf("5,000-deep recursion through pcall: got %q, %v", out, err)
	}
}

// Recursion through Go functions stops at MaxNestedGoCalls, also across
// coroutines, with a Lua error.
func TestHazluaNestedGoCalls(t *testing.T) {
	tests := []struct{ name, src string }{
		{"pcall", `local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end
			local ok, e = pcall(f) return e`},
		{"__index", `local t = setmetatable({}, {__index = function(t, k) return t[k] end})
			local ok, e = pcall(function() return t.x end) return e`},
		{"gsub", `local function f() return (string.gsub("a", "a", f)) end
			local ok, e = pcall(f) return e`},
		{"coroutine.wrap", `local function f() return coroutine.wrap(f)() end
			local ok, e = pcall(f) return e`},
		{"coroutine.resume", `local function f() local ok, e = coroutine.resume(coroutine.create(f)) if not ok then error(e, 0) end end
			local ok, e = pcall(f) return e`},
	}
	for _, limit := range []int{100, MaxNestedGoCalls} {
		for _, tt := range tests {
			if limit != 100 && strings.HasPrefix(tt.name, "coroutine") {
				continue // a registry per coroutine: too much memory for a test
			}
			t.Run(fmt.Sprintf("%d/%s", limit, tt.name), func(t *testing.T) {
				defer func(old int) { MaxNestedGoCalls = old }(MaxNestedGoCalls)
				MaxNestedGoCalls = limit
				overflow := "<string>:1: " + nestedGoCallsOverflow()
				L := hazluaState(200000, true)
				defer L.Close()
				out, err := hazluaRun(t, L, tt.src)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != 1 || out[0] != overflow {
					t.Fatalf("got %q, want %q", out, overflow)
				}
				if L.goCallDepth != 0 {
					t.Fatalf("goCallDepth = %d after the run", L.goCallDepth)
				}
			})
		}
	}
}

// A caught error closes only the upvalues of the frames it unwinds.
func TestHazluaUpvaluesAfterCaughtError(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"pcall(error)", `local x = 1 local function get() return x end
			pcall(error, "e") x = 2 return get()`, "2"},
		{"error in a Lua function", `local x = 1 local function get() return x end
			pcall(function() error("e") end) x = 2 return get()`, "2"},
		{"error with a table", `local x = 1 local function get() return x end
			pcall(function() error({}) end) x = 2 return get()`, "2"},
		{"xpcall", `local x = 1 local function get() return x end
			xpcall(function() error("e") end, function(m) return m end) x = 2 return get()`, "2"},
		{"runtime error", `local x = 1 local function get() return x end
			pcall(function() return nil + 1 end) x = 2 return get()`, "2"},
		{"unwound frame", `local g
			pcall(function() local y = 5 g = function() return y end error("e") end)
			local a, b, c, d = 10, 20, 30, 40 return g()`, "5"},
		{"unwound frame, xpcall", `local g
			xpcall(function() local y = 5 g = function() return y end error("e") end, function(m) return m end)
			local a, b, c, d = 10, 20, 30, 40 return g()`, "5"},
		{"dead coroutine", `local g
			coroutine.resume(coroutine.create(function() local y = 7 g = function() return y end error("e") end))
			local a, b, c, d = 10, 20, 30, 40 return g()`, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := hazluaState(200000, true)
			defer L.Close()
			out, err := hazluaRun(t, L, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0] != tt.want {
				t.Fatalf("got %q, want %q", out, tt.want)
			}
		})
	}
}

// upstreamStackTrace is stackTrace as upstream wrote it (quadratic in the
// depth), to compare with.
func (ls *LState) upstreamStackTrace(level int) string {
	buf := []string{}
	header := "stack traceback:"
	if ls.currentFrame != nil {
		i := 0
		for dbg, ok := ls.GetStack(i); ok; dbg, ok = ls.GetStack(i) {
			cf := dbg.frame
			buf = append(buf, fmt.Sprintf("\t%v in %v", ls.Where(i), ls.formattedFrameFuncName(cf)))
			if !cf.Fn.IsG && cf.TailCall > 0 {
				for tc := cf.TailCall; tc > 0; tc-- {
					buf = append(buf, "\t(tailcall): ?")
					i++
				}
			}
			i++
		}
	}
	buf = append(buf, fmt.Sprintf("\t%v: %v", "[G]", "?"))
	buf = buf[intMax(0, intMin(level, len(buf))):len(buf)]
	if len(buf) > 20 {
		newbuf := make([]string, 0, 20)
		newbuf = append(newbuf, buf[0:7]...)
		newbuf = append(newbuf, "\t...")
		newbuf = append(newbuf, buf[len(buf)-7:len(buf)]...)
		buf = newbuf
	}
	return fmt.Sprintf("%s\n%s", header, strings.Join(buf, "\n"))
}

func TestHazluaStackTraceAsUpstream(t *testing.T) {
	for _, depth := range []int{0, 1, 5, 12, 13, 14, 30} {
		for _, src := range []string{
			// plain calls, through pcall, and tail calls
			`local function f(n) if n == 0 then return check() end local r = f(n - 1) return r end return f(N)`,
			`local function f(n) if n == 0 then return check() end local ok, r = pcall(f, n - 1) return r end return f(N)`,
			`local function f(n) if n == 0 then return check() end return f(n - 1) end local r = f(N) return r`,
			`local function g(n) if n == 0 then check() return 1 end return g(n - 1) end
			 local function f(n) if n == 0 then local r = g(3) return r end local r = f(n - 1) return r end local r = f(N) return r`,
		} {
			L := hazluaState(1000, true)
			var mismatch []string
			L.SetGlobal("check", L.NewFunction(func(L *LState) int {
				for level := 0; level < 40; level++ {
					if got, want := L.stackTrace(level), L.upstreamStackTrace(level); got != want {
						mismatch = append(mismatch, fmt.Sprintf("level %d:\n%s\nwant:\n%s", level, got, want))
					}
				}
				return 0
			}))
			L.SetGlobal("N", LNumber(depth))
			if err := L.DoString(src); err != nil {
				t.Fatalf("depth %d: %s: %v", depth, src, err)
			}
			if len(mismatch) > 0 {
				t.Errorf("depth %d: %s:\n%s", depth, src, mismatch[0])
			}
			L.Close()
		}
	}
}

// A failed call names what was called, as Lua 5.1 does.
func TestHazluaCallErrorNames(t *testing.T) {
	tests := []struct{ src, want string }{
		{`foo()`, "global 'foo' (a nil value)"},
		{`print(foo())`, "global 'foo' (a nil value)"},
		{`local t = {} t.get("X")`, "field 'get' (a nil value)"},
		{`local t = {env = {}} t.env.get("X")`, "field 'get' (a nil value)"},
		{`string.nope()`, "field 'nope' (a nil value)"},
		{`local t = {f = {}} t.f()`, "field 'f' (a table value)"},
		{`local t = {} return t.x()`, "field 'x' (a nil value)"},
		{`local t, k = {}, "a" t[k]()`, "field '?' (a nil value)"},
		{`("x"):bar()`, "method 'bar' (a nil value)"},
		{`local s = "x" s:bar()`, "method 'bar' (a nil value)"},
		{`local x x()`, "local 'x' (a nil value)"},
		{`local x = 5 x()`, "local 'x' (a number value)"},
		{`local x = 1 x = nil x()`, "local 'x' (a nil value)"},
		{`local function f(a, b) b() end f(1)`, "local 'b' (a nil value)"},
		{`local function f(...) local x = ... x() end f()`, "local 'x' (a nil value)"},
		{`for i, v in ipairs({1}) do v() end`, "local 'v' (a number value)"},
		{`local a = 1 do local b = 2 end local c c()`, "local 'c' (a nil value)"},
		{`local a do local b = 2 end a()`, "local 'a' (a nil value)"},
		{`local f function g() f() end g()`, "upvalue 'f' (a nil value)"},
		{`local function f() return foo() end f()`, "global 'foo' (a nil value)"},
		// What cannot be named is not.
		{`(nil)()`, "a nil value"},
		{`local a, b = nil, nil (a or b)()`, "a nil value"},
		{`local f = function() end f = (f and nil) f()`, "local 'f' (a nil value)"},
		{`return (1)()`, "a number value"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			err := L.DoString(tt.src)
			want := "<string>:1: attempt to call " + tt.want
			if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
				t.Fatalf("got %v, want %s", err, want)
			}
		})
	}
}

// Each local's EndPc is the end of its own scope, also when a later block
// reuses its register.
func TestHazluaDbgLocalsEndPc(t *testing.T) {
	L := NewState()
	defer L.Close()
	fn, err := L.LoadString("local a = 1 do local b = 2 end local c = 3 return a + c")
	if err != nil {
		t.Fatal(err)
	}
	p := fn.Proto
	got := map[string][2]int{}
	for _, l := range p.DbgLocals {
		got[l.Name] = [2]int{l.StartPc, l.EndPc}
	}
	last := len(p.Code) - 1
	if got["b"][1] >= got["c"][0] || got["a"][1] != last || got["c"][1] != last {
		t.Fatalf("DbgLocals (start, end) = %v, code of %d instructions: b must end before c starts; a and c end at %d", got, len(p.Code), last)
	}
}

type hazluaOverflow struct{ overflowed bool }

// registryOverflow raises, as LState's does.
func (h *hazluaOverflow) registryOverflow() {
	h.overflowed = true
	panic(h)
}

// Growing the registry to n slots copies it O(log n) times, not n/growBy.
func TestHazluaRegistryGrowsGeometrically(t *testing.T) {
	h := &hazluaOverflow{}
	rg := newRegistry(h, 1024, 1<<14, 1<<22, newAllocator(32))
	resizes := 0
	for i := 0; i < 1<<22; i++ {
		before := cap(rg.array)
		rg.Push(LNil)
		if cap(rg.array) != before {
			resizes++
		}
	}
	if h.overflowed || rg.Top() != 1<<22 {
		t.Fatalf("overflowed before the maximum size: top %d", rg.Top())
	}
	if resizes > 12 {
		t.Fatalf("%d resizes to grow from 1024 to %d slots, want at most 12", resizes, 1<<22)
	}
	func() {
		defer func() { recover() }()
		rg.Push(LNil)
	}()
	if !h.overflowed {
		t.Fatal("no overflow past the maximum size")
	}
}

// Change 12: tables made from Go, the libraries, the preloaded numbers.
func TestHazluaStartupAllocations(t *testing.T) {
	L := NewState()
	defer L.Close()

	// A NewTable has no parts until a key is set; then it works as
	// before, and the keys come back in the order they were set.
	tb := L.NewTable()
	if tb.array != nil || tb.strdict != nil || tb.keys != nil {
		t.Fatalf("NewTable() made its parts at once")
	}
	tb.RawSetInt(1, LString("one"))
	tb.RawSetString("b", LNumber(2))
	tb.RawSetH(LNumber(2.5), LTrue)
	tb.RawSetString("a", LNumber(1))
	tb.RawSetString("b", LNumber(3)) // not a new key
	var keys []string
	for k, v := tb.Next(LNil); k != LNil; k, v = tb.Next(k) {
		keys = append(keys, k.String()+"="+v.String())
	}
	if got := strings.Join(keys, " "); got != "1=one b=3 2.5=true a=1" {
		t.Errorf("Next: %s", got)
	}

	// A table made with a hash size has its key list at that size, and
	// iterates in insertion order. A small one has no index (its keys are
	// searched); past keysIndexAt keys, it gets one.
	ct := L.CreateTable(0, 3)
	if cap(ct.keys) != 3 || ct.k2i != nil {
		t.Fatalf("CreateTable(0, 3): keys cap %d, k2i %v", cap(ct.keys), ct.k2i)
	}
	names := []string{"z", "y", "x", "w"}
	for _, k := range names {
		ct.RawSetString(k, LString(k))
	}
	for i, want := range names {
		if got := ct.keys[i].String(); got != want || ct.keyIndex(LString(want)) != i {
			t.Errorf("keys[%d] = %s (index %d), want %s", i, got, ct.keyIndex(LString(want)), want)
		}
	}
	for i := len(names); i <= keysIndexAt+2; i++ {
		k := fmt.Sprint("k", i)
		ct.RawSetString(k, LNumber(i))
		ct.RawSetString(k, LNumber(-i)) // not a new key
		names = append(names, k)
	}
	ct.RawSetH(LTrue, LTrue)
	names = append(names, "true")
	if ct.k2i == nil || len(ct.k2i) != len(names) {
		t.Fatalf("%d keys: k2i %v", len(names), ct.k2i)
	}
	var order []string
	for k, _ := ct.Next(LNil); k != LNil; k, _ = ct.Next(k) {
		order = append(order, k.String())
	}
	if got, want := strings.Join(order, " "), strings.Join(names, " "); got != want {
		t.Errorf("Next past keysIndexAt: %s, want %s", got, want)
	}

	// Each library has all of its functions, in the order of its list.
	for _, lib := range []struct {
		name  string
		funcs []libFunc
	}{{"string", strFuncs}, {"table", tableFuncs}, {"math", mathFuncs}, {"os", osFuncs},
		{"coroutine", coFuncs}, {"debug", debugFuncs}, {"package", loFuncs}, {"channel", channelFuncs}} {
		mod, ok := L.GetGlobal(lib.name).(*LTable)
		if !ok {
			t.Fatalf("%s is not a table", lib.name)
		}
		for i, f := range lib.funcs {
			if fn, ok := mod.RawGetString(f.name).(*LFunction); !ok || !fn.IsG {
				t.Errorf("%s.%s is not a Go function", lib.name, f.name)
			}
			if got := mod.keys[i].String(); got != f.name {
				t.Errorf("%s: key %d is %s, want %s", lib.name, i, got, f.name)
			}
		}
	}
	for _, f := range baseFuncs {
		if _, ok := L.GetGlobal(f.name).(*LFunction); !ok {
			t.Errorf("_G.%s is not a function", f.name)
		}
	}

	// The preloaded numbers are the numbers 0 to 127, equal to any other
	// LNumber of the same value.
	for i := 0; i < int(preloadLimit); i++ {
		if v, ok := preloads[i].(LNumber); !ok || v != LNumber(i) || preloads[i] != LValue(LNumber(i)) {
			t.Fatalf("preloads[%d] = %v", i, preloads[i])
		}
	}
	if got, err := hazluaRun(t, L, "local t = {} t[5] = 'x' return 2 + 3, t[2 + 3], 127 == 127.0"); err != nil || strings.Join(got, " ") != "5 x true" {
		t.Errorf("numbers: %q, %v", got, err)
	}
}
