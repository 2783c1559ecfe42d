package luaapi

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// raise raises a Lua error "file:line: fname: message" at the nearest Lua
// caller.
func raise(L *lua.LState, fname, format string, args ...any) {
	L.RaiseError("%s: %s", fname, fmt.Sprintf(format, args...))
}

// typeName describes v for an error message: "number", "nil"...
func typeName(v lua.LValue) string { return v.Type().String() }

// checkKeys raises when t has a key outside allowed (a typo must fail
// loudly), naming every unknown key. Integer keys 1..n are accepted when
// list is true.
func checkKeys(L *lua.LState, fname string, t *lua.LTable, list bool, allowed ...string) {
	var unknown []string
	t.ForEach(func(k, _ lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			for _, a := range allowed {
				if string(k) == a {
					return
				}
			}
			unknown = append(unknown, fmt.Sprintf("%q", string(k)))
		case lua.LNumber:
			if list {
				return
			}
			unknown = append(unknown, k.String())
		default:
			unknown = append(unknown, "a "+typeName(k)+" key")
		}
	})
	if len(unknown) == 0 {
		return
	}
	sort.Strings(unknown)
	word := "key"
	if len(unknown) > 1 {
		word = "keys"
	}
	raise(L, fname, "unknown %s %s (valid keys: %s)", word, strings.Join(unknown, ", "), strings.Join(allowed, ", "))
}

// listOf returns the values t[1..n] of a list, raising when t has holes,
// non-integer keys or values that are not strings or numbers.
func listOf(L *lua.LState, fname, what string, t *lua.LTable, from int) []string {
	n := 0
	t.ForEach(func(k, _ lua.LValue) {
		if num, ok := k.(lua.LNumber); ok && float64(num) == math.Trunc(float64(num)) && int(num) >= from {
			n++
		}
	})
	out := make([]string, 0, n)
	for i := from; i < from+n; i++ {
		v := t.RawGetInt(i)
		switch v := v.(type) {
		case lua.LString:
			out = append(out, string(v))
		case lua.LNumber:
			out = append(out, v.String())
		case *lua.LNilType:
			raise(L, fname, "%s has a hole: item %d is nil", what, i-from+1)
		default:
			raise(L, fname, "%s item %d is a %s, not a string", what, i-from+1, typeName(v))
		}
	}
	return out
}

// optString returns t[key] as a string, "" when absent; numbers are
// refused when strict.
func optString(L *lua.LState, fname string, t *lua.LTable, key string, strict bool) (string, bool) {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return "", false
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		if !strict {
			return v.String(), true
		}
	}
	raise(L, fname, "%s must be a string, not a %s", key, typeName(t.RawGetString(key)))
	return "", false
}

// optBool returns t[key] as a boolean, def when absent.
func optBool(L *lua.LState, fname string, t *lua.LTable, key string, def bool) bool {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LBool:
		return bool(v)
	}
	raise(L, fname, "%s must be a boolean, not a %s", key, typeName(t.RawGetString(key)))
	return def
}

// optDuration returns t[key] as a duration, 0 when absent.
func optDuration(L *lua.LState, fname string, t *lua.LTable, key string) time.Duration {
	v := t.RawGetString(key)
	if v == lua.LNil {
		return 0
	}
	if v.Type() != lua.LTNumber && v.Type() != lua.LTString {
		raise(L, fname, "%s must be a number of seconds or a duration string, not a %s", key, typeName(v))
	}
	d, err := ParseDuration(v.String(), v.Type() == lua.LTNumber)
	if err != nil {
		raise(L, fname, "%s %v", key, err)
	}
	return d
}

// checkDuration returns argument n as a duration (haz.sleep, p:wait).
func checkDuration(L *lua.LState, n int, fname string) time.Duration {
	v := L.Get(n)
	if v.Type() != lua.LTNumber && v.Type() != lua.LTString {
		raise(L, fname, "duration must be a number of seconds or a duration string, not a %s", typeName(v))
	}
	d, err := ParseDuration(v.String(), v.Type() == lua.LTNumber)
	if err != nil {
		raise(L, fname, "duration %v", err)
	}
	return d
}

// ParseDuration parses a duration as SPEC S2 gives it: a number of seconds
// or a Go duration string ("1m30s"), greater than zero. seconds says s is a
// number.
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
