package luaapi

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Tests for the binding layer (bind.go) and the declarations (api.go).

// testOptions has one field of each type bind checks.
var testOptions = &Options{Name: "test.Options", Fields: []Field{
	{Name: "stdout", Type: stringT, Doc: "a string"},
	{Name: "stderr", Type: stringT, Default: `"inherit"`, Doc: "a string with a default"},
	{Name: "label", Type: textT, Doc: "a string or a number"},
	{Name: "on", Type: booleanT, Default: "true", Doc: "a boolean"},
	{Name: "wait", Type: durationT, Doc: "a duration"},
	{Name: "deps", Type: namesT, Doc: "names"},
	{Name: "run", Type: functionT, Doc: "a function"},
	{Name: "mode", Type: custom(`"a"|"b"`), Default: `"a"`, Doc: "checked by the binding"},
}}

var testList = testOptions.derive("test.List", "with list items", nil)

func init() { testList.List = &Field{Type: stringT, Doc: "items"} }

var testRequired = &Options{Name: "test.Required", Fields: []Field{
	{Name: "name", Type: stringT, Required: true, Doc: "required"},
	{Name: "shared", Type: booleanT, Default: "false", Doc: "optional"},
}}

// newBindState returns a Lua state whose global bind(o, t) binds t to the
// Options named o ("opts", "list", "req", "nested") and returns what the
// getters read, rendered as a string.
func newBindState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	L.SetGlobal("bind", L.NewFunction(func(L *lua.LState) int {
		at := newSite(L, "test")
		tbl := L.CheckTable(2)
		switch L.CheckString(1) {
		case "opts", "list":
			o := testOptions
			if L.CheckString(1) == "list" {
				o = testList
			}
			b := o.bind(at, tbl)
			out, _ := b.str("stdout")
			errs, _ := b.str("stderr")
			label, hasLabel := b.str("label")
			L.Push(lua.LString(fmt.Sprintf("stdout=%q stderr=%q label=%q/%v on=%v wait=%v deps=%q run=%v mode=%q",
				out, errs, label, hasLabel, b.boolean("on"), b.duration("wait"), b.names("deps"), b.function("run") != nil, b.def("mode"))))
		case "req":
			b := testRequired.bind(at, tbl)
			name, _ := b.str("name")
			L.Push(lua.LString(fmt.Sprintf("name=%q shared=%v", name, b.boolean("shared"))))
		case "nested":
			b := testRequired.bind(at.in("mutex"), tbl)
			name, _ := b.str("name")
			L.Push(lua.LString(name))
		}
		return 1
	}))
	return L
}

func TestBind(t *testing.T) {
	const valid = "valid keys: stdout, stderr, label, on, wait, deps, run, mode"
	cases := []leafCase{
		// Unknown keys.
		{name: "unknown key with a suggestion", src: `bind("opts", {stdot = "x"})`,
			wantErr: `test.lua:1: test: unknown key "stdot" (did you mean "stdout"?; ` + valid + `)`},
		{name: "unknown key without a suggestion", src: `bind("opts", {zzzzzz = 1})`,
			wantErr: `test.lua:1: test: unknown key "zzzzzz" (` + valid + `)`},
		{name: "unknown keys sorted, suggestions once", src: `bind("opts", {zzzz = 1, stdut = 2, stdot = 3})`,
			wantErr: `test.lua:1: test: unknown keys "stdot", "stdut", "zzzz" (did you mean "stdout"?; ` + valid + `)`},
		{name: "two suggestions", src: `bind("opts", {lable = 1, rum = 2})`,
			wantErr: `test.lua:1: test: unknown keys "lable", "rum" (did you mean "label", "run"?; ` + valid + `)`},
		{name: "list item without a list", src: `bind("opts", {"x"})`,
			wantErr: `test.lua:1: test: unknown key [1] (` + valid + `)`},
		{name: "boolean key", src: `bind("opts", {[true] = 1})`,
			wantErr: `test.lua:1: test: unknown key [true] (` + valid + `)`},
		{name: "table key", src: `bind("opts", {[{}] = 1})`,
			wantErr: `test.lua:1: test: unknown key [a table] (` + valid + `)`},

		// The list form.
		{name: "list items", src: `return bind("list", {"a", "b", stdout = "x"})`,
			want: strconv.Quote(`stdout="x" stderr="inherit" label=""/false on=true wait=0s deps=[] run=false mode="a"`)},
		{name: "fractional list key", src: `bind("list", {"a", [1.5] = "b"})`,
			wantErr: `test.lua:1: test: unknown key [1.5] (`},
		{name: "zero list key", src: `bind("list", {[0] = "a"})`,
			wantErr: `test.lua:1: test: unknown key [0] (`},
		{name: "list unknown key", src: `bind("list", {"a", stdot = 1})`,
			wantErr: `test.lua:1: test: unknown key "stdot" (did you mean "stdout"?; `},

		// Defaults and values.
		{name: "defaults", src: `return bind("opts", {})`,
			want: strconv.Quote(`stdout="" stderr="inherit" label=""/false on=true wait=0s deps=[] run=false mode="a"`)},
		{name: "values", src: `return bind("opts", {stdout = "o", stderr = "e", label = 2.5, on = false, wait = "1m30s", deps = {"a", "b"}, run = print, mode = "b"})`,
			want: strconv.Quote(`stdout="o" stderr="e" label="2.5"/true on=false wait=1m30s deps=["a" "b"] run=true mode="a"`)},
		{name: "seconds", src: `return bind("opts", {wait = 0.5})`,
			want: strconv.Quote(`stdout="" stderr="inherit" label=""/false on=true wait=500ms deps=[] run=false mode="a"`)},

		// Wrong types.
		{name: "string a number", src: `bind("opts", {stdout = 1})`, wantErr: `test.lua:1: test: stdout must be a string, not a number`},
		{name: "text a table", src: `bind("opts", {label = {}})`, wantErr: `test.lua:1: test: label must be a string, not a table`},
		{name: "boolean a string", src: `bind("opts", {on = "yes"})`, wantErr: `test.lua:1: test: on must be a boolean, not a string`},
		{name: "duration a boolean", src: `bind("opts", {wait = true})`, wantErr: `test.lua:1: test: wait must be a number of seconds or a duration string, not a boolean`},
		{name: "duration not a duration", src: `bind("opts", {wait = "soon"})`, wantErr: `test.lua:1: test: wait "soon" is not a duration`},
		{name: "duration zero", src: `bind("opts", {wait = 0})`, wantErr: `test.lua:1: test: wait 0 must be greater than zero`},
		{name: "names a string", src: `bind("opts", {deps = "a"})`, wantErr: `test.lua:1: test: deps must be a list of strings, not a string`},
		{name: "names with a hole", src: `bind("opts", {deps = {"a", nil, "c"}})`, wantErr: `test.lua:1: test: deps must be a list (1..n) of strings`},
		{name: "names with a key", src: `bind("opts", {deps = {"a", x = "b"}})`, wantErr: `test.lua:1: test: deps must be a list (1..n) of strings`},
		{name: "names an empty name", src: `bind("opts", {deps = {"a", ""}})`, wantErr: `test.lua:1: test: deps item 2 must be a non-empty string, not a string`},
		{name: "names a number", src: `bind("opts", {deps = {1}})`, wantErr: `test.lua:1: test: deps item 1 must be a non-empty string, not a number`},
		{name: "function a table", src: `bind("opts", {run = {}})`, wantErr: `test.lua:1: test: run must be a function, not a table`},
		{name: "custom types are the binding's", src: `return bind("opts", {mode = {}})`,
			want: strconv.Quote(`stdout="" stderr="inherit" label=""/false on=true wait=0s deps=[] run=false mode="a"`)},
		{name: "fields are checked in order", src: `bind("opts", {run = 1, stdout = 2})`, wantErr: `test.lua:1: test: stdout must be a string`},

		// Required keys.
		{name: "required given", src: `return bind("req", {name = "m"})`, want: strconv.Quote(`name="m" shared=false`)},
		{name: "required missing", src: `bind("req", {shared = true})`, wantErr: `test.lua:1: test: name is required`},
		{name: "required empty", src: `bind("req", {name = ""})`, wantErr: `test.lua:1: test: name is required`},
		{name: "required wrong type", src: `bind("req", {name = 1})`, wantErr: `test.lua:1: test: name must be a string, not a number`},
		{name: "nested required missing", src: `bind("nested", {})`, wantErr: `test.lua:1: test: mutex = {name = ...} needs a name`},
		{name: "nested unknown key", src: `bind("nested", {name = "m", sharde = true})`,
			wantErr: `test.lua:1: test: mutex: unknown key "sharde" (did you mean "shared"?; valid keys: name, shared)`},
		{name: "nested wrong type", src: `bind("nested", {name = "m", shared = 1})`, wantErr: `test.lua:1: test: mutex: shared must be a boolean, not a number`},
	}
	runLeafCases(t, newBindState(t), cases)
}

// TestBindUndeclaredKey: reading a key the Options do not declare is a bug
// in the binding, which panics at once.
func TestBindUndeclaredKey(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `test.Options has no key "stdin"`) {
			t.Errorf("recovered %v, want a panic naming the key", r)
		}
	}()
	bound{testOptions, nil}.value("stdin")
}

func TestDerive(t *testing.T) {
	base := &Options{Name: "base", List: &Field{Type: stringT}, Fields: []Field{
		{Name: "a", Type: stringT}, {Name: "b", Type: booleanT, Default: "false"}, {Name: "c", Type: stringT},
	}}
	d := base.derive("derived", "doc", []string{"[]", "a"}, Field{Name: "b", Type: booleanT, Default: "true"}, Field{Name: "d", Type: textT})
	if got, want := d.Keys(), []string{"b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if d.List != nil || d.Name != "derived" || d.field("b").Default != "true" {
		t.Errorf("derived %+v", d)
	}
	if got, want := base.Keys(), []string{"a", "b", "c"}; !slices.Equal(got, want) || base.field("b").Default != "false" || base.List == nil {
		t.Errorf("derive changed its base: %+v", base)
	}
}

// TestAPIDeclarations checks the declarations themselves: names unique,
// documented, defaults readable by the getters, every option table used.
func TestAPIDeclarations(t *testing.T) {
	api := API()
	names := map[string]bool{}
	used := map[string]bool{} // class names that appear in a type
	useType := func(ty Type) {
		for _, word := range regexp.MustCompile(`haz\.[A-Za-z]+`).FindAllString(ty.Lua, -1) {
			used[word] = true
		}
	}
	checkField := func(owner string, f Field) {
		if f.Name == "" || f.Type.Lua == "" {
			t.Errorf("%s: a field without a name or a type: %+v", owner, f)
		}
		useType(f.Type)
		switch f.Type.Lua {
		case booleanT.Lua:
			if f.Default != "" && f.Default != "true" && f.Default != "false" {
				t.Errorf("%s.%s: default %q is not a boolean", owner, f.Name, f.Default)
			}
		case stringT.Lua, textT.Lua:
			if _, err := strconv.Unquote(f.Default); f.Default != "" && err != nil {
				t.Errorf("%s.%s: default %q is not a quoted string", owner, f.Name, f.Default)
			}
		case durationT.Lua, namesT.Lua, functionT.Lua:
			if f.Default != "" {
				t.Errorf("%s.%s: a default %q that the getter ignores", owner, f.Name, f.Default)
			}
		}
	}
	for _, f := range api.Funcs {
		if names[f.Name] {
			t.Errorf("%s declared twice", f.Name)
		}
		names[f.Name] = true
		if f.Doc == "" {
			t.Errorf("%s has no Doc", f.Name)
		}
		if (f.fn == nil) == (f.rtFn == nil) {
			t.Errorf("%s: exactly one of fn and rtFn must be set", f.Name)
		}
		optional := false
		for i, p := range f.Params {
			checkField(f.Name, p)
			if p.Name == "..." && i != len(f.Params)-1 {
				t.Errorf("%s: ... is not the last parameter", f.Name)
			}
			if optional && p.Required {
				t.Errorf("%s: required parameter %s after an optional one", f.Name, p.Name)
			}
			optional = optional || !p.Required
		}
	}
	for _, v := range api.Values {
		if names[v.Name] {
			t.Errorf("%s declared twice", v.Name)
		}
		names[v.Name] = true
		if v.Doc == "" || v.Type.Lua == "" || v.value == nil {
			t.Errorf("%s: Doc, Type and value must be set", v.Name)
		}
	}
	classes := map[string]bool{}
	for _, o := range api.Options {
		if classes[o.Name] {
			t.Errorf("option table %s declared twice", o.Name)
		}
		classes[o.Name] = true
		if o.Doc == "" {
			t.Errorf("%s has no Doc", o.Name)
		}
		keys := map[string]bool{}
		for _, f := range o.Fields {
			if keys[f.Name] {
				t.Errorf("%s: key %s declared twice", o.Name, f.Name)
			}
			keys[f.Name] = true
			if f.Doc == "" {
				t.Errorf("%s.%s has no Doc", o.Name, f.Name)
			}
			checkField(o.Name, f)
		}
	}
	for _, o := range api.Options {
		if !used[o.Name] {
			t.Errorf("option table %s is the type of no parameter or field", o.Name)
		}
	}
	for name := range used {
		if strings.HasSuffix(name, "Options") && !classes[name] {
			t.Errorf("type %s is used but not declared in API().Options", name)
		}
	}
}

// TestAPIMatchesModule: every function and value in the live haz table
// (and every process method) is declared in api.go, and every declaration
// is in the live table.
func TestAPIMatchesModule(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rt := &Runtime{L: L}
	rt.openLibs()

	declared := map[string]string{} // name -> "function" or "value"
	for _, f := range API().Funcs {
		declared[f.Name] = "function"
	}
	for _, v := range API().Values {
		declared[v.Name] = "value"
	}
	isModule := func(name string) bool {
		for d := range declared {
			if strings.HasPrefix(d, name+".") {
				return true
			}
		}
		return false
	}
	live := map[string]string{}
	var walk func(name string, t *lua.LTable)
	walk = func(name string, t *lua.LTable) {
		t.ForEach(func(k, v lua.LValue) {
			full := name + "." + k.String()
			switch v := v.(type) {
			case *lua.LFunction:
				live[full] = "function"
			case *lua.LTable:
				if L.GetMetatable(v) != lua.LNil {
					// A value with functions under it (haz.env): they
					// are offered by its __index, not stored in it.
					live[full] = "value"
					for d := range declared {
						if key, ok := strings.CutPrefix(d, full+"."); ok {
							if _, ok := L.GetField(v, key).(*lua.LFunction); ok {
								live[d] = "function"
							}
						}
					}
					return
				}
				if isModule(full) {
					walk(full, v)
					return
				}
				live[full] = "value"
			default:
				live[full] = "value"
			}
		})
	}
	walk("haz", L.GetGlobal("haz").(*lua.LTable))
	mt := L.GetTypeMetatable(processTypeName).(*lua.LTable)
	mt.RawGetString("__index").(*lua.LTable).ForEach(func(k, v lua.LValue) {
		if _, ok := v.(*lua.LFunction); ok {
			live[processTypeName+":"+k.String()] = "function"
		} else {
			live[processTypeName+":"+k.String()] = "value"
		}
	})

	var missing, undeclared []string
	for name, kind := range declared {
		if live[name] != kind {
			missing = append(missing, fmt.Sprintf("%s (%s, live: %q)", name, kind, live[name]))
		}
	}
	for name, kind := range live {
		if declared[name] != kind {
			undeclared = append(undeclared, fmt.Sprintf("%s (%s)", name, kind))
		}
	}
	sort.Strings(missing)
	sort.Strings(undeclared)
	if len(missing) > 0 {
		t.Errorf("declared in api.go but not in the haz module:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(undeclared) > 0 {
		t.Errorf("in the haz module but not declared in api.go:\n  %s", strings.Join(undeclared, "\n  "))
	}
	if len(live) < 40 {
		t.Errorf("only %d live names: the walk is broken", len(live))
	}
}

// TestLeafParamsChecked: each declared string parameter of a file, path,
// JSON or environment function raises "bad argument #n" for a table, so the
// declarations say what the functions check.
func TestLeafParamsChecked(t *testing.T) {
	L := newLeafState(t, t.TempDir())
	n := 0
	for _, f := range API().Funcs {
		if f.fn == nil || f.Name == "haz.glob" {
			continue // the process functions raise in their own words
		}
		for i, p := range f.Params {
			if !p.Required || p.Type.Lua != stringT.Lua {
				continue
			}
			args := make([]string, len(f.Params))
			for j := range args {
				args[j] = `D.."/no-such-file"`
				if f.Params[j].Type.Lua != stringT.Lua {
					args[j] = "nil"
				}
			}
			args[i] = "{}"
			src := fmt.Sprintf("return %s(%s)", f.Name, strings.Join(args, ", "))
			want := fmt.Sprintf("test.lua:1: %s: bad argument #%d (string expected, got table)", f.Name, i+1)
			if _, err := evalLua(t, L, src); err == nil || err.Error() != want {
				t.Errorf("%s: error %v, want %q", src, err, want)
			}
			n++
		}
	}
	if n < 15 {
		t.Errorf("only %d parameters checked", n)
	}
}
