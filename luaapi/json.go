package luaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// maxJSONDepth bounds the nesting encode accepts (decode's limit is
// encoding/json's own, also 10000).
const maxJSONDepth = 10000

// jsonNullT is the Value of the haz.json.null userdata. encode recognises
// null by this type, so every haz.json.null made by any newJSONModule call
// encodes as null.
type jsonNullT struct{}

// newJSONModule returns the haz.json table:
//
//	encode(value [, {indent = n | "str"}]) -> string   (raises on values JSON cannot hold)
//	decode(text) -> value | nil, msg
//	null                                               (sentinel for JSON null)
//
// Encoding is deterministic: object keys are sorted, numbers are written as
// encoding/json writes a float64. A table is an array when its keys are
// exactly 1..n (n ≥ 0, so the empty table is []), else an object, whose
// number keys become strings; decode gives JSON null as haz.json.null, so
// arrays keep their length.
func newJSONModule(L *lua.LState) *lua.LTable { return newModule(L, nil, "haz.json") }

// jsonNullKey is where the Lua registry keeps a state's haz.json.null.
const jsonNullKey = "haz.json.null"

// jsonNull returns L's haz.json.null userdata, making it on the first call,
// so that decode returns the value scripts compare with.
func jsonNull(L *lua.LState) lua.LValue {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if null := reg.RawGetString(jsonNullKey); null != lua.LNil {
		return null
	}
	null := L.NewUserData()
	null.Value = jsonNullT{}
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("haz.json.null"))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("haz.json.null"))
	L.SetMetatable(null, mt)
	reg.RawSetString(jsonNullKey, null)
	return null
}

// jsonEncodeLua implements haz.json.encode.
func jsonEncodeLua(L *lua.LState) int {
	const fname = "haz.json.encode"
	opts := leafOptions(L, 2, fname, encodeOptions)
	indent := ""
	const want = "indent must be an integer from 0 to 16 or a string of spaces and tabs"
	switch v := opts.value("indent").(type) {
	case *lua.LNilType:
	case lua.LNumber:
		if v < 0 || v > 16 || v != lua.LNumber(math.Trunc(float64(v))) {
			raise(L, fname, "%s, not %s", want, v)
		}
		indent = strings.Repeat(" ", int(v))
	case lua.LString:
		if strings.Trim(string(v), " \t") != "" {
			raise(L, fname, "%s, not %q", want, string(v))
		}
		indent = string(v)
	default:
		raise(L, fname, "indent must be a number or a string, not a %s", typeName(v))
	}
	b, err := jsonEncode(L.Get(1))
	if err != nil {
		raise(L, fname, "%v", err)
	}
	if indent != "" {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", indent); err != nil {
			raise(L, fname, "%v", err) // cannot happen: b is valid JSON
		}
		b = out.Bytes()
	}
	L.Push(lua.LString(b))
	return 1
}

// jsonDecodeLua implements haz.json.decode; bad JSON is an operational
// failure (nil, msg), since the text usually comes from a file or a process.
func jsonDecodeLua(L *lua.LState) int {
	const fname = "haz.json.decode"
	null := jsonNull(L)
	text := leafCheckString(L, 1, fname)
	var v any
	err := json.Unmarshal([]byte(text), &v)
	if err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			err = fmt.Errorf("%s (at offset %d)", se.Error(), se.Offset)
		case errors.As(err, &te):
			err = fmt.Errorf("%s is out of range (at offset %d)", te.Value, te.Offset)
		}
		L.Push(lua.LNil)
		L.Push(lua.LString(fname + ": " + strings.TrimPrefix(err.Error(), "json: ")))
		return 2
	}
	L.Push(jsonToLua(L, v, null))
	return 1
}

// jsonToLua converts a value decoded by encoding/json into Lua.
func jsonToLua(L *lua.LState, v any, null lua.LValue) lua.LValue {
	switch v := v.(type) {
	case nil:
		return null
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := L.CreateTable(len(v), 0)
		for i, e := range v {
			t.RawSetInt(i+1, jsonToLua(L, e, null))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			t.RawSetString(k, jsonToLua(L, e, null))
		}
		return t
	}
	panic(fmt.Sprintf("luaapi: unexpected JSON value %T", v)) // encoding/json yields only the types above
}

// jsonEncode encodes a Lua value as compact JSON. The error says what
// cannot be encoded and where ("at .a[2]").
func jsonEncode(v lua.LValue) ([]byte, error) {
	e := &jsonEncoder{visiting: map[*lua.LTable]bool{}}
	if err := e.value(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// jsonEncoder holds the state of one jsonEncode call.
type jsonEncoder struct {
	buf      []byte
	visiting map[*lua.LTable]bool // tables on the current path, for cycles
	path     []string             // ".key" and "[i]" steps to the current value
}

// fail returns an error naming the current position.
func (e *jsonEncoder) fail(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(e.path) > 0 {
		msg += " (at " + strings.Join(e.path, "") + ")"
	}
	return errors.New(msg)
}

func (e *jsonEncoder) value(v lua.LValue) error {
	switch v := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return e.fail("cannot encode %v", v) // NaN, +Inf or -Inf
		}
		e.buf = appendJSONNumber(e.buf, f)
	case lua.LString:
		var err error
		if e.buf, err = appendJSONString(e.buf, string(v)); err != nil {
			return e.fail("%v", err)
		}
	case *lua.LTable:
		return e.table(v)
	case *lua.LUserData:
		if _, ok := v.Value.(jsonNullT); ok {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.fail("cannot encode a userdata")
	default:
		return e.fail("cannot encode a %s", v.Type())
	}
	return nil
}

// jsonMember is one object member, with its key as written.
type jsonMember struct {
	key string
	val lua.LValue
}

func (e *jsonEncoder) table(t *lua.LTable) error {
	if e.visiting[t] {
		return e.fail("cannot encode a table that contains itself")
	}
	if len(e.path) >= maxJSONDepth {
		return e.fail("cannot encode tables nested more than %d deep", maxJSONDepth)
	}
	e.visiting[t] = true
	defer delete(e.visiting, t)

	n, maxIndex, array := 0, 0.0, true
	t.ForEach(func(k, _ lua.LValue) {
		n++
		if f, ok := k.(lua.LNumber); ok && f >= 1 && float64(f) == math.Trunc(float64(f)) {
			maxIndex = max(maxIndex, float64(f))
			return
		}
		array = false
	})
	if array && maxIndex == float64(n) {
		e.buf = append(e.buf, '[')
		for i := 1; i <= n; i++ {
			if i > 1 {
				e.buf = append(e.buf, ',')
			}
			e.path = append(e.path, "["+strconv.Itoa(i)+"]")
			if err := e.value(t.RawGetInt(i)); err != nil {
				return err
			}
			e.path = e.path[:len(e.path)-1]
		}
		e.buf = append(e.buf, ']')
		return nil
	}

	members := make([]jsonMember, 0, n)
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		switch k := k.(type) {
		case lua.LString:
			members = append(members, jsonMember{string(k), v})
		case lua.LNumber:
			f := float64(k)
			if math.IsInf(f, 0) || math.IsNaN(f) {
				err = e.fail("cannot encode the key %v", k)
				return
			}
			members = append(members, jsonMember{string(appendJSONNumber(nil, f)), v})
		default:
			err = e.fail("cannot encode a %s key (keys must be strings or numbers)", k.Type())
		}
	})
	if err != nil {
		return err
	}
	slices.SortFunc(members, func(a, b jsonMember) int { return strings.Compare(a.key, b.key) })
	e.buf = append(e.buf, '{')
	for i, m := range members {
		if i > 0 {
			if m.key == members[i-1].key {
				return e.fail("cannot encode two keys that both become %q (a string and a number)", m.key)
			}
			e.buf = append(e.buf, ',')
		}
		if e.buf, err = appendJSONString(e.buf, m.key); err != nil {
			return e.fail("key: %v", err)
		}
		e.buf = append(e.buf, ':')
		e.path = append(e.path, jsonPathStep(m.key))
		if err := e.value(m.val); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.buf = append(e.buf, '}')
	return nil
}

// jsonPathStep renders an object key for an error position: .name for an
// identifier, ["other"] otherwise.
func jsonPathStep(key string) string {
	for i, r := range key {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return "[" + strconv.Quote(key) + "]"
		}
	}
	if key == "" {
		return `[""]`
	}
	return "." + key
}

// appendJSONNumber appends f as encoding/json writes a float64: integers
// without exponent below 1e21, shortest round-trip digits otherwise.
func appendJSONNumber(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s as a JSON string. Lua strings are bytes; one
// that is not valid UTF-8 cannot be written as JSON text without changing
// it, so it is an error rather than silently replaced.
func appendJSONString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return b, errors.New("cannot encode a string that is not valid UTF-8")
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i, r := range s {
		var esc string
		switch {
		case r == '"':
			esc = `\"`
		case r == '\\':
			esc = `\\`
		case r == '\n':
			esc = `\n`
		case r == '\r':
			esc = `\r`
		case r == '\t':
			esc = `\t`
		case r < 0x20:
			esc = `\u00` + string(hex[r>>4]) + string(hex[r&0xf])
		case r == '\u2028':
			esc = `\u2028`
		case r == '\u2029':
			esc = `\u2029`
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + utf8.RuneLen(r)
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}
