package luatypes

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hazlua/hazlua/luaapi"
)

// TestMetaCoversDeclarations: every declared function, value and option
// key is in the definition file, and nothing else is: the file is derived
// from the declarations the module and the option parser use (luaapi's
// TestAPIMatchesModule ties those to the live module).
func TestMetaCoversDeclarations(t *testing.T) {
	d := luaapi.API()
	meta := string(Meta(d))
	funcs := regexp.MustCompile(`(?m)^function ([\w.:]+)\(`).FindAllStringSubmatch(meta, -1)
	var got []string
	for _, m := range funcs {
		got = append(got, m[1])
	}
	var want []string
	for _, f := range d.Funcs {
		name := f.Name
		if recv, m, ok := strings.Cut(name, ":"); ok {
			name = local(ClassOf(recv)) + ":" + m
		}
		want = append(want, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("functions in the file:\n%q\ndeclared:\n%q", got, want)
	}
	for _, v := range d.Values {
		if !strings.Contains(meta, "\n"+v.Name+" = nil\n") && !strings.Contains(meta, "\n---@class "+v.Name+"\n") {
			t.Errorf("value %s missing", v.Name)
		}
	}
	classes := parseClasses(meta)
	for _, o := range slices.Concat(d.Options, d.Results) {
		fields, ok := classes[o.Name]
		if !ok {
			t.Errorf("class %s missing", o.Name)
			continue
		}
		if want := o.Keys(); !slices.Equal(fields, want) {
			t.Errorf("class %s: fields %q, the parser's keys %q", o.Name, fields, want)
		}
	}
}

// parseClasses returns each ---@class of meta with its named fields.
func parseClasses(meta string) map[string][]string {
	out := map[string][]string{}
	var cur string
	for _, line := range strings.Split(meta, "\n") {
		if name, ok := strings.CutPrefix(line, "---@class "); ok {
			cur = name
			out[cur] = nil
			continue
		}
		if f, ok := strings.CutPrefix(line, "---@field "); ok && cur != "" {
			name, _, _ := strings.Cut(f, " ")
			if !strings.HasPrefix(name, "[") {
				out[cur] = append(out[cur], strings.TrimSuffix(name, "?"))
			}
			continue
		}
		if !strings.HasPrefix(line, "---") {
			cur = ""
		}
	}
	return out
}

func TestLuarc(t *testing.T) {
	got, err := Luarc(nil, ".hazlua/types")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]map[string]any
	if err := json.Unmarshal(got, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["runtime"]["version"] != "Lua 5.1" || !slices.Equal(cfg["workspace"]["library"].([]any), []any{".hazlua/types"}) ||
		!slices.Equal(cfg["diagnostics"]["globals"].([]any), []any{"haz"}) {
		t.Errorf("new .luarc.json:\n%s", got)
	}
	// An existing file keeps its settings, its form, and gets each value once.
	again, err := Luarc([]byte(`{"workspace.library": ["lib"], "diagnostics": {"globals": ["vim", "haz"]}, "hint.enable": true}`), "types")
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	json.Unmarshal(again, &flat)
	if !slices.Equal(flat["workspace.library"].([]any), []any{"lib", "types"}) || flat["hint.enable"] != true ||
		!slices.Equal(flat["diagnostics"].(map[string]any)["globals"].([]any), []any{"vim", "haz"}) || flat["workspace"] != nil {
		t.Errorf("updated .luarc.json:\n%s", again)
	}
	if _, err := Luarc([]byte("{"), "x"); err == nil {
		t.Error("a malformed .luarc.json was taken")
	}
}
