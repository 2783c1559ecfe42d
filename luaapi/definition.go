package luaapi

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// definition returns what a task's fingerprint sees of its body fn: the
// source lines that define it (from its first line to its last, whole
// lines, read from its file), then the name and value of each upvalue it
// captures that is a string, a number or a boolean, as they are when the
// task is declared, so that tasks declared in a loop over one function
// differ by what they captured. A function whose file cannot be read (a
// chunk from load) is described by its compiled code instead. Called
// under the Lua lock.
func (rt *Runtime) definition(fn *lua.LFunction) string {
	p := fn.Proto
	if p == nil {
		return "go function"
	}
	lines := rt.sourceLines(p.SourceName)
	inFile := p.LineDefined >= 1 && p.LastLineDefined <= len(lines)
	if inFile && p.LastLineDefined < len(lines) && !capturesValues(fn) {
		// The lines, each with its newline, are a stretch of the file's
		// text, which sourceLines split into lines: return that substring
		// instead of a copy per task (10,000 tasks declared in a loop have
		// the same text). A line follows the last, so its newline is in
		// the text. (An empty substring's data pointer is not where it
		// was cut, hence non-empty first and last lines.)
		first, last := lines[p.LineDefined-1], lines[p.LastLineDefined-1]
		if len(first) > 0 && len(last) > 0 {
			start := unsafe.StringData(first)
			end := unsafe.Add(unsafe.Pointer(unsafe.StringData(last)), len(last)+1)
			return unsafe.String(start, uintptr(end)-uintptr(unsafe.Pointer(start)))
		}
	}
	var b strings.Builder
	if inFile {
		for _, l := range lines[p.LineDefined-1 : p.LastLineDefined] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	} else {
		writeProto(&b, p)
	}
	for i, uv := range fn.Upvalues {
		name := fmt.Sprint("#", i)
		if i < len(p.DbgUpvalues) {
			name = p.DbgUpvalues[i]
		}
		switch v := uv.Value().(type) {
		case lua.LString:
			fmt.Fprintf(&b, "upvalue %s = %q\n", name, string(v))
		case lua.LNumber, lua.LBool:
			fmt.Fprintf(&b, "upvalue %s = %s\n", name, v.String())
		}
	}
	return b.String()
}

// capturesValues reports whether fn captures an upvalue that definition
// writes: a string, a number or a boolean.
func capturesValues(fn *lua.LFunction) bool {
	for _, uv := range fn.Upvalues {
		switch uv.Value().(type) {
		case lua.LString, lua.LNumber, lua.LBool:
			return true
		}
	}
	return false
}

// sourceLines returns the lines of the file a chunk was loaded from,
// read once per run; nil if it cannot be read or is not a regular file
// (a script read from a pipe cannot be read twice).
func (rt *Runtime) sourceLines(name string) []string {
	if lines, ok := rt.sources[name]; ok {
		return lines
	}
	var lines []string
	if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
		if data, err := os.ReadFile(name); err == nil {
			lines = strings.Split(string(data), "\n")
		}
	}
	if rt.sources == nil {
		rt.sources = map[string][]string{}
	}
	rt.sources[name] = lines
	return lines
}

// writeProto writes a function's compiled code and constants, and its
// nested functions', for a function without source text.
func writeProto(b *strings.Builder, p *lua.FunctionProto) {
	fmt.Fprintf(b, "code %x\n", p.Code)
	for _, c := range p.Constants {
		fmt.Fprintf(b, "const %s %q\n", c.Type(), c.String())
	}
	for _, sub := range p.FunctionPrototypes {
		writeProto(b, sub)
	}
}
