package luaapi

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/suggest"
)

// This file is the binding layer: how a haz function checks its option
// tables and arguments. What there is to check (every function, value and
// option table of the haz module, with their keys) is declared once, in
// api.go; docs/design.md ("Bindings") says how to add to it.
//
// An option table is read in two steps: o.bind(at, t) checks all of it
// (unknown keys, with a "did you mean"; the type of every declared key;
// required keys), then the getters of the bound table return Go values,
// or the declared default for an absent key.

// Type is the type of an option, a parameter or a result.
type Type struct {
	// Lua is the type as LuaLS annotations write it: "string", "string[]",
	// "haz.Process", `"null"|"inherit"`.
	Lua string
	// check raises when v (never nil) is not of the type; nil when the
	// binding checks such values itself.
	check func(at *site, key string, v lua.LValue)
}

// The types that bind checks. Any other type (made with custom) is checked
// by the binding that reads it.
var (
	stringT   = Type{"string", checkString}
	textT     = Type{"string|number", checkText} // a number is read as tostring writes it
	booleanT  = Type{"boolean", checkBoolean}
	durationT = Type{"number|string", func(at *site, key string, v lua.LValue) { at.duration(key, v) }}
	namesT    = Type{"string[]", checkNames} // a list 1..n of non-empty strings
	functionT = Type{"function", checkFunction}
)

// custom is a type that the binding reading it checks.
func custom(lua string) Type { return Type{Lua: lua} }

// Field is one key of an option table, or one parameter of a function.
type Field struct {
	// Name is the key, or the parameter's name ("..." for the rest of
	// the arguments).
	Name string
	Type Type
	// Doc is one line for docs and editor types.
	Doc string
	// Default is the value an absent key has, as Lua source ("true",
	// `"capture"`), or "" when it has none, or one that Doc explains.
	// bind's getters return it.
	Default string
	// Required is set for a key that must be given (a string must not be
	// empty either), and for a parameter that must be given.
	Required bool
}

// Options is an option table: its keys and, when List is not nil, the
// list items t[1], t[2], ... it takes too.
type Options struct {
	// Name is the table's class name for editor types: "haz.SpawnOptions".
	Name   string
	Doc    string
	List   *Field // the type and meaning of each list item; Name unused
	Fields []Field

	required     atomic.Uint64 // bit i: Fields[i].Required (see requiredFields)
	requiredDone atomic.Bool
}

// requiredFields returns the bit set of o's required fields, computed
// once.
func (o *Options) requiredFields() uint64 {
	if o.requiredDone.Load() {
		return o.required.Load()
	}
	var mask uint64
	for i := range o.Fields {
		if o.Fields[i].Required {
			mask |= 1 << i
		}
	}
	o.required.Store(mask)
	o.requiredDone.Store(true)
	return mask
}

// Keys returns the names of o's fields, in declaration order.
func (o *Options) Keys() []string {
	keys := make([]string, len(o.Fields))
	for i, f := range o.Fields {
		keys[i] = f.Name
	}
	return keys
}

// Type is the type of a value that is such a table.
func (o *Options) Type() Type { return custom(o.Name) }

// field returns the field named name, or nil.
func (o *Options) field(name string) *Field {
	for i := range o.Fields {
		if o.Fields[i].Name == name {
			return &o.Fields[i]
		}
	}
	return nil
}

// derive returns a copy of o named name, without the keys in drop ("[]"
// drops the list items), and with fields: each replaces o's field of its
// name in place, or is added at the end.
func (o *Options) derive(name, doc string, drop []string, fields ...Field) *Options {
	d := &Options{Name: name, Doc: doc, List: o.List}
	for _, f := range o.Fields {
		if !slices.Contains(drop, f.Name) {
			d.Fields = append(d.Fields, f)
		}
	}
	if slices.Contains(drop, "[]") {
		d.List = nil
	}
	for _, f := range fields {
		if old := d.field(f.Name); old != nil {
			*old = f
		} else {
			d.Fields = append(d.Fields, f)
		}
	}
	return d
}

// A site is where a binding's errors come from: they read
// "file:line: where: message".
type site struct {
	L     *lua.LState
	where string // "haz.spawn", "haz.pipe stage 2", `haz.task: task "a"`, "haz.spawn: stdout"
	// task, when not "", is the task whose options haz.task reads: where
	// is then "haz.task" and the messages say `haz.task: task "a"`, made
	// only for a message.
	task  string
	key   string // the key whose value is this table ("stdout"), "" at the top
	outer *site  // the site of the table holding this one, nil at the top
	fail  func(L *lua.LState, where, format string, args ...any)
	// defs, when set, raises instead of fail: its definition errors
	// (haz.task's). A method value of it would cost an allocation.
	defs *Runtime
}

// newSite returns the site of the function fname, whose errors raise.
func newSite(L *lua.LState, fname string) *site { return &site{L: L, where: fname, fail: raise} }

// raise raises the error "where: message". It does not return.
func (at *site) raise(format string, args ...any) {
	if at.defs != nil {
		at.defs.defError(at.L, at.place(), format, args...)
		return
	}
	at.fail(at.L, at.place(), format, args...)
}

// place returns where, with the task's name for haz.task's site.
func (at *site) place() string {
	if at.task != "" {
		return at.where + ": task " + strconv.Quote(at.task)
	}
	return at.where
}

// in returns the site of the table that is the value of key.
func (at *site) in(key string) *site {
	return &site{L: at.L, where: at.place() + ": " + key, key: key, outer: at, fail: at.fail, defs: at.defs}
}

// raise raises a Lua error "file:line: fname: message" at the nearest Lua
// caller.
func raise(L *lua.LState, fname, format string, args ...any) {
	L.RaiseError("%s: %s", fname, fmt.Sprintf(format, args...))
}

// typeName describes v for an error message: "number", "nil"...
func typeName(v lua.LValue) string { return v.Type().String() }

// bound is an option table that passed the checks of its Options. A nil
// table (an absent optional argument) reads as empty.
type bound struct {
	o *Options
	t *lua.LTable
}

// bind checks t against o and returns it for reading. It raises for an
// unknown key (naming every one, with the closest valid key), a value of
// the wrong type, and a missing required key, checking fields in their
// declared order.
func (o *Options) bind(at *site, t *lua.LTable) bound {
	b, _ := o.bindPresent(at, t)
	return b
}

// maxFields bounds the fields of an Options (bindPresent's bit set).
const maxFields = 64

// bindPresent is bind, and also returns which of o's fields t has: bit i
// for o.Fields[i]. A getter of an absent field returns its default, so a
// binding may skip it.
func (o *Options) bindPresent(at *site, t *lua.LTable) (bound, uint64) {
	if len(o.Fields) > maxFields {
		panic(fmt.Sprintf("luaapi: %s has more than %d keys", o.Name, maxFields))
	}
	// One walk over t's keys finds the declared fields it has and whether
	// it has others; what a message needs is made only for an error.
	var present uint64
	var unknown []lua.LValue
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if s, ok := k.(lua.LString); ok {
			if i := o.index(string(s)); i >= 0 {
				present |= 1 << i
				continue
			}
		}
		if !o.allows(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		o.unknownKeys(at, unknown)
	}
	// The fields present or required, in declared order.
	for todo := present | o.requiredFields(); todo != 0; todo &= todo - 1 {
		i := bits.TrailingZeros64(todo)
		f := &o.Fields[i]
		v := lua.LValue(lua.LNil)
		if present&(1<<i) != 0 {
			v = t.RawGetString(f.Name)
		}
		if v != lua.LNil && f.Type.check != nil {
			f.Type.check(at, f.Name, v)
		}
		if f.Required && (v == lua.LNil || v == lua.LString("")) {
			if at.outer != nil {
				at.outer.raise("%s = {%s = ...} needs a %s", at.key, f.Name, f.Name)
			}
			at.raise("%s is required", f.Name)
		}
	}
	return bound{o, t}, present
}

// index returns the index in o.Fields of the field named name, or -1.
func (o *Options) index(name string) int {
	for i := range o.Fields {
		if o.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// bit returns the bit of the field named name in bindPresent's set. The
// field must be declared.
func (o *Options) bit(name string) uint64 {
	i := o.index(name)
	if i < 0 {
		panic(fmt.Sprintf("luaapi: %s has no key %q", o.Name, name))
	}
	return 1 << i
}

// allows reports whether k is a key o declares: one of its fields, or a
// list index when it takes list items.
func (o *Options) allows(k lua.LValue) bool {
	switch k := k.(type) {
	case lua.LString:
		return o.index(string(k)) >= 0
	case lua.LNumber:
		return o.List != nil && isIndex(k)
	}
	return false
}

// checkKeys raises when t has a key o does not declare (a typo must fail
// loudly), naming every unknown key and suggesting the closest valid ones.
func (o *Options) checkKeys(at *site, t *lua.LTable) {
	var unknown []lua.LValue
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if !o.allows(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		o.unknownKeys(at, unknown)
	}
}

// unknownKeys raises the error for the keys of a table that o does not
// declare.
func (o *Options) unknownKeys(at *site, undeclared []lua.LValue) {
	type bad struct{ key, hint string }
	var unknown []bad
	for _, k := range undeclared {
		hint := ""
		if k, ok := k.(lua.LString); ok {
			hint = suggest.Closest(string(k), o.Keys())
		}
		unknown = append(unknown, bad{keyName(k), hint})
	}
	sort.Slice(unknown, func(i, j int) bool { return unknown[i].key < unknown[j].key })
	var keys, hints []string
	for _, u := range unknown {
		keys = append(keys, u.key)
		if h := strconv.Quote(u.hint); u.hint != "" && !slices.Contains(hints, h) {
			hints = append(hints, h)
		}
	}
	var notes []string
	if len(hints) > 0 {
		notes = append(notes, "did you mean "+strings.Join(hints, ", ")+"?")
	}
	if len(o.Fields) > 0 {
		notes = append(notes, "valid keys: "+strings.Join(o.Keys(), ", "))
	} else {
		notes = append(notes, "a list has only items [1], [2], ...")
	}
	word := "key"
	if len(keys) > 1 {
		word = "keys"
	}
	at.raise("unknown %s %s (%s)", word, strings.Join(keys, ", "), strings.Join(notes, "; "))
}

// keyName writes a table key as messages name it: "stdout" (quoted), [1],
// [true], [a table].
func keyName(k lua.LValue) string {
	switch k := k.(type) {
	case lua.LString:
		return strconv.Quote(string(k))
	case lua.LNumber, lua.LBool:
		return "[" + k.String() + "]"
	}
	return "[a " + typeName(k) + "]"
}

// isIndex reports whether n is a list index: a whole number, 1 or more.
func isIndex(n lua.LNumber) bool { return n >= 1 && float64(n) == math.Trunc(float64(n)) }

// plainList is a table of list items only (haz.parallel{...}, args).
var plainList = &Options{Name: "list", List: &Field{Type: custom("any")}}

func checkString(at *site, key string, v lua.LValue) {
	if v.Type() != lua.LTString {
		at.raise("%s must be a string, not a %s", key, typeName(v))
	}
}

func checkText(at *site, key string, v lua.LValue) {
	if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
		at.raise("%s must be a string, not a %s", key, typeName(v))
	}
}

func checkBoolean(at *site, key string, v lua.LValue) {
	if v.Type() != lua.LTBool {
		at.raise("%s must be a boolean, not a %s", key, typeName(v))
	}
}

func checkFunction(at *site, key string, v lua.LValue) {
	if v.Type() != lua.LTFunction {
		at.raise("%s must be a function, not a %s", key, typeName(v))
	}
}

func checkNames(at *site, key string, v lua.LValue) {
	lst, ok := v.(*lua.LTable)
	if !ok {
		at.raise("%s must be a list of strings, not a %s", key, typeName(v))
	}
	if !isList(lst) {
		at.raise("%s must be a list (1..n) of strings", key)
	}
	n := lst.Len()
	for i := 1; i <= n; i++ {
		if s, ok := lst.RawGetInt(i).(lua.LString); !ok || s == "" {
			at.raise("%s item %d must be a non-empty string, not a %s", key, i, typeName(lst.RawGetInt(i)))
		}
	}
}

// isList reports whether t's keys are exactly 1..n, n its length.
func isList(t *lua.LTable) bool {
	n := t.Len()
	for i := 1; i <= n; i++ {
		if t.RawGetInt(i) == lua.LNil {
			return false
		}
	}
	// Len is the last item of the array part: any other key comes after it.
	after := lua.LValue(lua.LNil)
	switch {
	case n < len(smallIndexes):
		after = smallIndexes[n]
	default:
		after = lua.LNumber(n)
	}
	k, _ := t.Next(after)
	return k == lua.LNil
}

// smallIndexes[i] is lua.LNumber(i) as an LValue, for i > 0 (made once:
// each conversion allocates); smallIndexes[0] is nil, the key before the
// first.
var smallIndexes = func() (s [64]lua.LValue) {
	s[0] = lua.LNil
	for i := 1; i < len(s); i++ {
		s[i] = lua.LNumber(i)
	}
	return s
}()

// duration returns v, the value of key, as a duration (see ParseDuration).
func (at *site) duration(key string, v lua.LValue) time.Duration {
	if v.Type() != lua.LTNumber && v.Type() != lua.LTString {
		at.raise("%s must be a number of seconds or a duration string, not a %s", key, typeName(v))
	}
	d, err := ParseDuration(v.String(), v.Type() == lua.LTNumber)
	if err != nil {
		at.raise("%s %v", key, err)
	}
	return d
}

// value returns the value of key, which o must declare (a binding that
// reads an undeclared key is a bug, caught by its first test).
func (b bound) value(key string) lua.LValue {
	if b.t != nil {
		if v := b.t.RawGetString(key); v != lua.LNil {
			return v // bind let it through: o declares key
		}
	}
	b.declared(key)
	return lua.LNil
}

// declared returns the field key, panicking when o does not declare it.
func (b bound) declared(key string) *Field {
	i := b.o.index(key)
	if i < 0 {
		panic(fmt.Sprintf("luaapi: %s has no key %q", b.o.Name, key))
	}
	return &b.o.Fields[i]
}

// def returns the declared default of key, unquoted when it is a string.
func (b bound) def(key string) string {
	d := b.declared(key).Default
	if s, err := strconv.Unquote(d); err == nil {
		return s
	}
	return d
}

// str returns the string (or number, for textT) value of key, or its
// default and false when it is absent.
func (b bound) str(key string) (string, bool) {
	if v := b.value(key); v != lua.LNil {
		return v.String(), true
	}
	return b.def(key), false
}

// boolean returns the boolean value of key, or its default.
func (b bound) boolean(key string) bool {
	if v, ok := b.value(key).(lua.LBool); ok {
		return bool(v)
	}
	return b.def(key) == "true"
}

// duration returns the duration value of key, or 0.
func (b bound) duration(key string) time.Duration {
	v := b.value(key)
	if v == lua.LNil {
		return 0
	}
	d, _ := ParseDuration(v.String(), v.Type() == lua.LTNumber) // checked by bind
	return d
}

// names returns the list of strings in key, or nil.
func (b bound) names(key string) []string {
	lst, ok := b.value(key).(*lua.LTable)
	if !ok || lst.Len() == 0 {
		return nil
	}
	out := make([]string, lst.Len())
	for i := range out {
		out[i] = lst.RawGetInt(i + 1).String()
	}
	return out
}

// function returns the function in key, or nil.
func (b bound) function(key string) *lua.LFunction {
	f, _ := b.value(key).(*lua.LFunction)
	return f
}

// listOf returns the list items of t, strings or numbers (as tostring
// writes them), raising when the list has holes or other values.
func listOf(at *site, what string, t *lua.LTable) []string {
	n := 0
	t.ForEach(func(k, _ lua.LValue) {
		if num, ok := k.(lua.LNumber); ok && isIndex(num) {
			n++
		}
	})
	out := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		switch v := t.RawGetInt(i).(type) {
		case lua.LString:
			out = append(out, string(v))
		case lua.LNumber:
			out = append(out, v.String())
		case *lua.LNilType:
			at.raise("%s has a hole: item %d is nil", what, i)
		default:
			at.raise("%s item %d is a %s, not a string", what, i, typeName(v))
		}
	}
	return out
}

// Arguments. The process, task and helper functions raise
// "argument #n must be ..., not a T"; the file, path, glob, JSON and
// environment functions raise as Lua's own library does,
// "bad argument #n (string expected, got T)".

// checkTable returns argument n as a table, raising with what was expected.
func checkTable(L *lua.LState, n int, fname, want string) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		raise(L, fname, "argument #%d must be %s, not a %s", n, want, typeName(L.Get(n)))
	}
	return t
}

// checkDuration returns argument n as a duration (haz.sleep, p:wait).
func checkDuration(L *lua.LState, n int, fname string) time.Duration {
	return newSite(L, fname).duration("duration", L.Get(n))
}

// leafCheckString returns argument n as a string. Numbers are accepted and
// converted as Lua's tostring does; anything else raises.
func leafCheckString(L *lua.LState, n int, fname string) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		raise(L, fname, "bad argument #%d (string expected, got %s)", n, v.Type())
		return ""
	}
}

// leafOptions binds the option table in argument n of fname to o. An
// absent or nil argument reads as an empty table; any other non-table
// raises.
func leafOptions(L *lua.LState, n int, fname string, o *Options) bound {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return bound{o, nil}
	case *lua.LTable:
		return o.bind(newSite(L, fname), v)
	default:
		raise(L, fname, "bad argument #%d (options table expected, got %s)", n, v.Type())
		return bound{}
	}
}

// leafFail pushes nil and "fname: err" and returns 2, the operational-failure
// return of every leaf function.
func leafFail(L *lua.LState, fname string, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(fname + ": " + err.Error()))
	return 2
}

// leafOK pushes true and returns 1.
func leafOK(L *lua.LState) int {
	L.Push(lua.LTrue)
	return 1
}

// ParseDuration parses a duration as docs/api.md ("Durations") gives it: a
// number of seconds or a Go duration string ("1m30s"), greater than zero.
// seconds says s is a number.
func ParseDuration(s string, seconds bool) (time.Duration, error) {
	var d time.Duration
	if seconds {
		var f float64
		if _, err := fmt.Sscan(s, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is not a valid number of seconds", s)
		}
		if f >= math.MaxInt64/float64(time.Second) {
			return 0, fmt.Errorf("%s seconds is too long (at most about 292 years)", s)
		}
		d = time.Duration(f * float64(time.Second))
		if d <= 0 {
			return 0, fmt.Errorf("%s must be greater than zero", s)
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like \"1m30s\" or a number of seconds)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be greater than zero", s)
	}
	return d, nil
}
