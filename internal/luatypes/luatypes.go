// Package luatypes writes the LuaLS (lua-language-server) definition file
// of the haz module, from the declarations the module itself is built
// from (luaapi.API), and the .luarc.json settings that point the server
// at it: `hazlua --types DIR` (docs/editors.md). It knows nothing of
// running Lua.
package luatypes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hazlua/hazlua/luaapi"
)

// MetaFile is the name of the definition file in the types directory.
const MetaFile = "haz.lua"

// Meta returns the definition file of the haz module: every option table
// and result table as a ---@class with its fields, every value, every
// function of haz and its submodules and every method of its classes,
// each with its parameters, results and doc.
func Meta(d luaapi.Declarations) []byte {
	var b bytes.Buffer
	b.WriteString("---@meta haz\n")
	b.WriteString("-- The haz module of hazlua, for lua-language-server. Written by\n")
	b.WriteString("-- `hazlua --types DIR`, from the declarations the module is built from:\n")
	b.WriteString("-- do not edit; write it again after upgrading hazlua.\n\n")

	for _, o := range slices.Concat(d.Options, d.Results) {
		writeClass(&b, o)
	}
	classes := methodClasses(d.Funcs)
	for _, c := range classes {
		fmt.Fprintf(&b, "---@class %s\n", c)
		fmt.Fprintf(&b, "local %s = {}\n\n", local(c))
		for _, f := range d.Funcs {
			if recv, m, ok := strings.Cut(f.Name, ":"); ok && ClassOf(recv) == c {
				writeFunc(&b, f, local(c)+":"+m)
			}
		}
	}

	b.WriteString("---The haz module: processes, tasks, files, paths, JSON, the environment.\n")
	b.WriteString("---@class haz\n")
	b.WriteString("haz = {}\n\n")
	subs := Submodules(d)
	for _, m := range subs {
		if i := slices.IndexFunc(d.Values, func(v *luaapi.Value) bool { return v.Name == m }); i >= 0 {
			// A value with functions under it (haz.env): a class with
			// the value's table type as its fields.
			v := d.Values[i]
			writeDoc(&b, v.Doc)
			fmt.Fprintf(&b, "---@class %s\n", m)
			if k, val, ok := tableType(v.Type.Lua); ok {
				fmt.Fprintf(&b, "---@field [%s] %s\n", k, val)
			}
			fmt.Fprintf(&b, "%s = {}\n\n", m)
			continue
		}
		fmt.Fprintf(&b, "---@class %s\n%s = {}\n\n", m, m)
	}
	for _, v := range d.Values {
		if slices.Contains(subs, v.Name) {
			continue
		}
		writeDoc(&b, v.Doc)
		fmt.Fprintf(&b, "---@type %s\n%s = nil\n\n", v.Type.Lua, v.Name)
	}
	for _, f := range d.Funcs {
		if !strings.Contains(f.Name, ":") {
			writeFunc(&b, f, f.Name)
		}
	}
	b.WriteString("return haz\n")
	return b.Bytes()
}

// ClassOf returns the class of a method receiver: "haz.process" (of
// "haz.process:wait") is "haz.Process".
func ClassOf(recv string) string {
	i := strings.LastIndexByte(recv, '.') + 1
	return recv[:i] + strings.ToUpper(recv[i:i+1]) + recv[i+1:]
}

// local is the name of a class's method table in the file.
func local(class string) string { return strings.ReplaceAll(class, ".", "_") }

// methodClasses returns the classes that have methods, in the order their
// first method is declared.
func methodClasses(funcs []*luaapi.Func) []string {
	var out []string
	for _, f := range funcs {
		if recv, _, ok := strings.Cut(f.Name, ":"); ok && !slices.Contains(out, ClassOf(recv)) {
			out = append(out, ClassOf(recv))
		}
	}
	return out
}

// Submodules returns the tables under haz that hold functions or values
// ("haz.fs", "haz.json"), sorted.
func Submodules(d luaapi.Declarations) []string {
	var out []string
	add := func(name string) {
		if strings.Contains(name, ":") {
			return
		}
		for dir := name[:strings.LastIndexByte(name, '.')]; strings.Contains(dir, "."); dir = dir[:strings.LastIndexByte(dir, '.')] {
			if !slices.Contains(out, dir) {
				out = append(out, dir)
			}
		}
	}
	for _, f := range d.Funcs {
		add(f.Name)
	}
	for _, v := range d.Values {
		add(v.Name)
	}
	slices.Sort(out)
	return out
}

// writeClass writes an option (or result) table as a class.
func writeClass(b *bytes.Buffer, o *luaapi.Options) {
	writeDoc(b, o.Doc)
	fmt.Fprintf(b, "---@class %s\n", o.Name)
	if o.List != nil {
		fmt.Fprintf(b, "%s\n", strings.TrimSpace(fmt.Sprintf("---@field [integer] %s %s", o.List.Type.Lua, oneLine(o.List.Doc))))
	}
	for _, f := range o.Fields {
		opt := "?"
		if f.Required {
			opt = ""
		}
		doc := oneLine(f.Doc)
		if f.Default != "" {
			doc += " (default: " + f.Default + ")"
		}
		fmt.Fprintf(b, "%s\n", strings.TrimSpace(fmt.Sprintf("---@field %s%s %s %s", f.Name, opt, typeOf(f.Type.Lua), strings.TrimSpace(doc))))
	}
	b.WriteString("\n")
}

// writeFunc writes a function (or method, when name has a ":") with its
// parameters and results.
func writeFunc(b *bytes.Buffer, f *luaapi.Func, name string) {
	writeDoc(b, f.Doc)
	var params []string
	for _, p := range f.Params {
		pname := p.Name
		if pname != "..." && !p.Required {
			pname += "?"
		}
		fmt.Fprintf(b, "%s\n", strings.TrimSpace(fmt.Sprintf("---@param %s %s %s", pname, typeOf(p.Type.Lua), oneLine(p.Doc))))
		params = append(params, p.Name)
	}
	if f.Returns != "" {
		fmt.Fprintf(b, "---@return %s\n", f.Returns)
	}
	fmt.Fprintf(b, "function %s(%s) end\n\n", name, strings.Join(params, ", "))
}

// tableType splits "table<K, V>" into K and V.
func tableType(t string) (k, v string, ok bool) {
	inner, ok := strings.CutPrefix(t, "table<")
	if inner, ok = strings.CutSuffix(inner, ">"); !ok {
		return "", "", false
	}
	k, v, ok = strings.Cut(inner, ",")
	return strings.TrimSpace(k), strings.TrimSpace(v), ok
}

// typeOf returns a type as an annotation takes it ("any" for none).
func typeOf(t string) string {
	if t == "" {
		return "any"
	}
	return t
}

// writeDoc writes doc as a --- comment.
func writeDoc(b *bytes.Buffer, doc string) {
	if doc = oneLine(doc); doc != "" {
		fmt.Fprintf(b, "---%s\n", upperFirst(doc))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// WriteDir writes the definition file into dir (made if missing).
func WriteDir(dir string, d luaapi.Declarations) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, MetaFile), Meta(d), 0o644)
}

// Luarc returns the settings of a .luarc.json (existing is the file's
// content, or nil) with lib added to workspace.library, the runtime set to
// Lua 5.1 and "haz" among the known globals; other settings are kept. A
// setting the file gives in the flat form ("runtime.version") is updated
// there; others are written in the nested form.
func Luarc(existing []byte, lib string) ([]byte, error) {
	cfg := map[string]any{}
	if len(bytes.TrimSpace(existing)) > 0 {
		if err := json.Unmarshal(existing, &cfg); err != nil {
			return nil, fmt.Errorf(".luarc.json: %w", err)
		}
	}
	// set applies f to the value of section.key, where the file has it.
	set := func(sec, key string, f func(any) any) {
		if v, ok := cfg[sec+"."+key]; ok {
			cfg[sec+"."+key] = f(v)
			return
		}
		m, ok := cfg[sec].(map[string]any)
		if !ok {
			m = map[string]any{}
			cfg[sec] = m
		}
		m[key] = f(m[key])
	}
	add := func(v string) func(any) any {
		return func(old any) any {
			list, _ := old.([]any)
			if !slices.Contains(list, any(v)) {
				list = append(list, v)
			}
			return list
		}
	}
	set("runtime", "version", func(any) any { return "Lua 5.1" })
	set("workspace", "library", add(lib))
	set("diagnostics", "globals", add("haz"))
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
