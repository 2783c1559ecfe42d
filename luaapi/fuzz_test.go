package luaapi

// Fuzz targets of the haz module's parsers (docs/api.md: Guarantees: no Go panic for any
// script, any input). `go test ./luaapi` runs each target on its seed
// corpus (testdata/fuzz/FuzzX and the f.Add calls); a longer run is
//
//	go test -run '^$' -fuzz '^FuzzSpawnTable$' -fuzztime 30s ./luaapi
//
// and likewise for FuzzParseDuration and FuzzJSON (FuzzGlob is in
// internal/glob). A crasher the fuzzer finds is written to
// testdata/fuzz/FuzzX/ and from then on runs with the seeds.

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/testutil"
	"github.com/hazlua/hazlua/proc"
)

// luaNumber renders f as a Lua expression with that value.
func luaNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "(0/0)"
	case math.IsInf(f, 1):
		return "(1/0)"
	case math.IsInf(f, -1):
		return "(-1/0)"
	}
	return "(" + strconv.FormatFloat(f, 'g', -1, 64) + ")"
}

// spawnSource builds the Lua source of a spawn table from fuzzed parts:
// ops is read as (key, value) byte pairs, keys from the spawn keys, list
// positions, a numeric key and a fuzzed string key, values of every Lua
// type, with strings prog, s1 and s2 and the number num.
func spawnSource(prog, s1, s2 string, num float64, ops []byte) string {
	strs := []string{testutil.LuaString(prog), testutil.LuaString(s1), testutil.LuaString(s2)}
	values := []string{
		strs[0], strs[1], strs[2], luaNumber(num), "true", "false", "nil",
		"{" + strs[0] + ", " + strs[1] + ", " + luaNumber(num) + "}",                                            // a list
		"{[" + strs[1] + "] = " + strs[2] + ", [" + strs[2] + "] = " + luaNumber(num) + ", HAZ_FUZZ_X = false}", // an env-like map
		"{file = " + strs[1] + ", append = true}",
		"function() end",
		"{}",
		"{file = " + strs[2] + "}",
		"{[true] = 1}",
		"io.stdout", // a userdata that is not a process
		"{" + strs[1] + ", nil, " + strs[2] + "}", // a list with a hole
		testutil.LuaString(strconv.FormatFloat(num, 'g', -1, 64) + "s"),
		"{program = " + strs[0] + "}",
	}
	spawnKeys := spawnOptions.Keys()
	var b strings.Builder
	b.WriteString("return parse({")
	for i := 0; i+1 < len(ops); i += 2 {
		k, v := int(ops[i]), values[int(ops[i+1])%len(values)]
		switch n := len(spawnKeys); {
		case k%(n+4) < n:
			b.WriteString(spawnKeys[k%(n+4)] + " = " + v)
		case k%(n+4) == n:
			b.WriteString(v) // the next list position
		case k%(n+4) == n+1:
			b.WriteString("[" + luaNumber(num) + "] = " + v)
		case k%(n+4) == n+2:
			b.WriteString("[" + strs[1] + "] = " + v)
		default:
			b.WriteString("check = " + v)
		}
		b.WriteString(", ")
	}
	b.WriteString("})")
	return b.String()
}

// FuzzSpawnTable feeds spawn tables built from fuzzed keys and values of
// every type to parseStage, the conversion of a haz.spawn/haz.run table to
// a proc.Spec, called from Lua as the bindings call it. It must either
// return a sound spec or raise a Lua error naming the function: a Go panic
// (ApiErrorPanic) must never come out. Nothing is started.
func FuzzSpawnTable(f *testing.F) {
	f.Add("sh", "-c", "echo hi", 1.5, []byte{0, 0, 1, 1, 2, 2})
	f.Add("cat", "a b", "x\x00y", 30.0, []byte{13, 0, 13, 1, 13, 2, 2, 8, 7, 9, 8, 12})
	f.Add("true", "1m30s", "", -1.0, []byte{9, 16, 10, 3, 11, 4, 12, 5})
	f.Add("", "PATH", "/nonexistent", math.NaN(), []byte{0, 0, 2, 8, 3, 4, 14, 1, 15, 2, 16, 5})
	f.Add("./no/such", "é\xff", "=", math.Inf(1), []byte{1, 7, 4, 10, 5, 13, 6, 14, 7, 11})
	f.Fuzz(func(t *testing.T, prog, s1, s2 string, num float64, ops []byte) {
		if len(ops) > 64 || len(prog)+len(s1)+len(s2) > 4096 {
			return
		}
		src := spawnSource(prog, s1, s2, num, ops)
		L := lua.NewState()
		defer L.Close()
		rt := &Runtime{}
		var entered, returned bool
		var bad []string
		o := spawnOptions
		if len(ops) > 0 && ops[0]%2 == 1 {
			o = runOptions
		}
		L.SetGlobal("parse", L.NewFunction(func(L *lua.LState) int {
			entered, returned = true, false
			at := newSite(L, "haz.spawn")
			st := rt.parseStage(at, o.bind(at, L.CheckTable(1)))
			returned = true
			bad = checkStage(st)
			return 0
		}))
		err := L.DoString(src)
		if err == nil {
			if !entered {
				t.Fatalf("parse was never called by %s", src)
			}
			if len(bad) > 0 {
				t.Fatalf("parseStage accepted %s\nbut the stage is not sound:\n  %s", src, strings.Join(bad, "\n  "))
			}
			return
		}
		var ae *lua.ApiError
		if !errors.As(err, &ae) {
			t.Fatalf("not a Lua error: %T %v\nsource: %s", err, err, src)
		}
		if ae.Type == lua.ApiErrorPanic {
			t.Fatalf("a Go panic escaped parseStage: %v\nsource: %s", err, src)
		}
		if entered && !returned {
			msg, ok := ae.Object.(lua.LString)
			if !ok || !strings.Contains(string(msg), "haz.spawn") {
				t.Fatalf("parseStage raised %v, which does not name haz.spawn\nsource: %s", ae.Object, src)
			}
		}
	})
}

// checkStage lists what is wrong with a stage parseStage accepted.
func checkStage(st *stage) []string {
	var bad []string
	sp := st.spec
	if !filepath.IsAbs(sp.Path) {
		bad = append(bad, "Path "+strconv.Quote(sp.Path)+" is not absolute")
	}
	if len(sp.Args) == 0 || sp.Args[0] == "" {
		bad = append(bad, "no program in Args")
	}
	for _, a := range sp.Args {
		if strings.IndexByte(a, 0) >= 0 {
			bad = append(bad, "NUL in argument "+strconv.Quote(a))
		}
	}
	names := map[string]bool{}
	for _, kv := range sp.Env {
		name, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || name == "":
			bad = append(bad, "env entry without a name: "+strconv.Quote(kv))
		case strings.IndexByte(kv, 0) >= 0:
			bad = append(bad, "NUL in env entry "+strconv.Quote(kv))
		case names[name]:
			bad = append(bad, "env name given twice: "+strconv.Quote(name))
		}
		names[name] = true
	}
	if sp.Name == "" {
		bad = append(bad, "empty Name")
	}
	if st.timeout < 0 || st.grace < 0 {
		bad = append(bad, "negative timeout or grace")
	}
	if !slices.Contains([]string{"capture", "pipe", "inherit", "null", "file"}, st.outKind) {
		bad = append(bad, "stdout kind "+strconv.Quote(st.outKind))
	}
	if !slices.Contains([]string{"capture", "inherit", "null", "stdout", "file"}, st.errKind) {
		bad = append(bad, "stderr kind "+strconv.Quote(st.errKind))
	}
	if !slices.Contains([]string{"null", "inherit", "pipe", "process", "file", "input"}, st.inKind) {
		bad = append(bad, "stdin kind "+strconv.Quote(st.inKind))
	}
	if (st.outKind == "file" && sp.Stdout.Path == "") || (st.errKind == "file" && sp.Stderr.Path == "") ||
		(st.inKind == "file" && sp.Stdin.Path == "") {
		bad = append(bad, "a file stream without a path")
	}
	if st.inKind == "input" && sp.Stdin.Kind != proc.InString {
		bad = append(bad, "input without InString")
	}
	return bad
}

// FuzzParseDuration checks ParseDuration (docs/api.md: Durations: a number of seconds or
// a Go duration string, greater than zero) on fuzzed strings, and on
// numbers as Lua formats them. An accepted duration is positive and is
// the value given; a rejected one says why, and never calls a positive
// number "not greater than zero" unless it rounds to 0 ns.
func FuzzParseDuration(f *testing.F) {
	f.Add("1m30s", 1.5)
	f.Add("0", 0.0)
	f.Add("-1s", -1.0)
	f.Add("soon", 1e-10)
	f.Add("9223372036s", 9223372036.0)
	f.Add("2562047h47m16.854775807s", 9223372036.854775)
	f.Add("1e3", math.Inf(1))
	f.Add("", math.NaN())
	f.Fuzz(func(t *testing.T, s string, num float64) {
		d, err := ParseDuration(s, false)
		want, werr := time.ParseDuration(s)
		switch {
		case err == nil && d <= 0:
			t.Fatalf("ParseDuration(%q) = %v, not greater than zero", s, d)
		case err == nil && (werr != nil || d != want):
			t.Fatalf("ParseDuration(%q) = %v; time.ParseDuration: %v, %v", s, d, want, werr)
		case err != nil && werr == nil && want > 0:
			t.Fatalf("ParseDuration(%q) rejected a positive duration %v: %v", s, want, err)
		case err != nil && !strings.HasPrefix(err.Error(), strconv.Quote(s)+" "):
			t.Fatalf("ParseDuration(%q): error %q does not start with the quoted input", s, err)
		}

		// A Lua number reaches ParseDuration as its string.
		ns := lua.LNumber(num).String()
		x, perr := strconv.ParseFloat(ns, 64)
		if perr != nil && !math.IsNaN(num) && !math.IsInf(num, 0) {
			t.Fatalf("cannot read back %q (from %v): %v", ns, num, perr)
		}
		d, err = ParseDuration(ns, true)
		ns9 := x * float64(time.Second)
		fits := !math.IsNaN(x) && !math.IsInf(x, 0) && ns9 < math.MaxInt64 // 2^63 as a float64
		switch {
		case err == nil && d <= 0:
			t.Fatalf("ParseDuration(%s seconds) = %v, not greater than zero", ns, d)
		case err == nil && !fits:
			t.Fatalf("ParseDuration(%s seconds) = %v, but that is out of range", ns, d)
		case err == nil && math.Abs(float64(d)-ns9) > 1+ns9*1e-15:
			t.Fatalf("ParseDuration(%s seconds) = %v (%d ns), want %v ns", ns, d, int64(d), ns9)
		case err != nil && fits && ns9 >= 1:
			t.Fatalf("ParseDuration(%s seconds) rejected %v ns: %v", ns, ns9, err)
		case err != nil && x > 0 && ns9 >= 1 && strings.Contains(err.Error(), "greater than zero"):
			t.Fatalf("ParseDuration(%s seconds): %q, but %s is greater than zero", ns, err, ns)
		}
	})
}

// jsonDecodeFn returns haz.json.decode as a Go function of a fresh state.
func jsonDecodeFn(L *lua.LState) *lua.LFunction {
	return newJSONModule(L).RawGetString("decode").(*lua.LFunction)
}

// FuzzJSON decodes fuzzed text with haz.json.decode: it returns a value or
// nil and a message, and never lets a Go panic out. A decoded value always
// encodes, and decode→encode is a fixed point after one round:
// encode(decode(encode(decode(x)))) == encode(decode(x)). The decoded value
// equals what encoding/json decodes (an empty object becomes [], the one
// thing a Lua table cannot tell apart).
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `[1,null,3]`, `{"a":{"b":[true,false]},"":""}`, `"\u2028\ud83d\ude00\u0000"`,
		`-0`, `1e400`, `1e-400`, `123456789012345678901234567890`, `[[[[[]]]]]`, `{"1":1,"2":2}`,
		`{"a":1,"a":2}`, `"\xff"`, "\"\u2029é\"", `[1,2`, ` 7 `, `{"x":{}}`, `0.1`, `[1e21,1e-7,-5e-324]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		decode := jsonDecodeFn(L)
		dec := func(s string) (lua.LValue, string) {
			if err := L.CallByParam(lua.P{Fn: decode, NRet: 2, Protect: true}, lua.LString(s)); err != nil {
				t.Fatalf("haz.json.decode(%q) raised: %v", s, err)
			}
			v, msg := L.Get(-2), L.Get(-1)
			L.Pop(2)
			if v == lua.LNil {
				return nil, msg.String()
			}
			return v, ""
		}
		v, msg := dec(string(text))
		var want any
		werr := json.Unmarshal(text, &want)
		if v == nil {
			if !strings.HasPrefix(msg, "haz.json.decode: ") {
				t.Fatalf("decode(%q): message %q", text, msg)
			}
			if werr == nil {
				t.Fatalf("decode(%q) failed (%s), encoding/json did not", text, msg)
			}
			return
		}
		if werr != nil {
			t.Fatalf("decode(%q) succeeded, encoding/json failed: %v", text, werr)
		}
		e1, err := jsonEncode(v)
		if err != nil {
			t.Fatalf("a decoded value does not encode: decode(%q), encode: %v", text, err)
		}
		var got any
		if err := json.Unmarshal(e1, &got); err != nil {
			t.Fatalf("encode wrote invalid JSON %q (from %q): %v", e1, text, err)
		}
		if !reflect.DeepEqual(got, emptyObjectsToArrays(want)) {
			t.Fatalf("decode(%q) then encode = %q, which means %#v, not %#v", text, e1, got, want)
		}
		v2, msg := dec(string(e1))
		if v2 == nil {
			t.Fatalf("decode(encode(decode(%q))) = %q failed: %s", text, e1, msg)
		}
		e2, err := jsonEncode(v2)
		if err != nil || string(e2) != string(e1) {
			t.Fatalf("not stable: %q → %q → %q (%v)", text, e1, e2, err)
		}
	})
}

// emptyObjectsToArrays replaces every empty JSON object by an empty array.
func emptyObjectsToArrays(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return []any{}
		}
		for k, e := range v {
			v[k] = emptyObjectsToArrays(e)
		}
	case []any:
		for i, e := range v {
			v[i] = emptyObjectsToArrays(e)
		}
	}
	return v
}
