package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hazlua/hazlua/internal/testutil"
)

// End-to-end tests of what hazlua gives editors and shells: the LuaLS
// definitions (--types) and the completion scripts (--completion), run in
// real shells against the real binary.

// walkLua prints every function and value of the live haz module, as
// "haz.fs.read" lines: a table of functions is a submodule, any other
// value (haz.env, haz.args, haz.json.null) is a value. A value with a
// metatable may offer functions through __index (haz.env.load): the
// names given as arguments are probed. (Methods are
// behind a protected metatable; luaapi's TestAPIMatchesModule checks
// them against the declarations, and luatypes' tests the declarations
// against the file.)
const walkLua = `
local function hasFunctions(t)
  for _, v in pairs(t) do
    if type(v) == "function" then return true end
  end
  return false
end
local function walk(prefix, t)
  for k, v in pairs(t) do
    local name = prefix .. "." .. k
    if type(v) == "table" and getmetatable(v) == nil and hasFunctions(v) then
      walk(name, v)
    else
      print(name)
      if type(v) == "table" and getmetatable(v) ~= nil then
        for _, probe in ipairs(haz.args) do
          local key = probe:match("^" .. name:gsub("%.", "%%.") .. "%.([%w_]+)$")
          if key and type(v[key]) == "function" then print(probe) end
        end
      end
    end
  end
end
walk("haz", haz)
`

// TestTypesMatchTheModule: the definition file --types writes declares
// exactly the functions and values of the module a script sees.
func TestTypesMatchTheModule(t *testing.T) {
	t.Parallel()
	dir := writeRawScript(t, []byte(walkLua))
	code, stdout, stderr := runScript(t, dir, runOpts{}, "--types", "types")
	if code != 0 || len(stdout) != 1 || stdout[0] != "wrote types/haz.lua and .luarc.json" {
		t.Fatalf("--types: exit %d, %q, %q", code, stdout, stderr)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "types", "haz.lua"))
	if err != nil {
		t.Fatal(err)
	}
	// Functions, values, and values with functions under them (a class
	// with a [key] field: haz.env).
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^(?:function ([\w.:]+)\(|(haz[\w.]*) = nil$|---@field \[\w+\] .*\n(haz[\w.]*) = \{\}$)`).FindAllStringSubmatch(string(meta), -1) {
		if name := m[1] + m[2] + m[3]; !strings.Contains(name, ":") {
			declared = append(declared, name)
		}
	}
	code, live, stderr := runScript(t, dir, runOpts{}, append([]string{"build.lua", "--"}, declared...)...)
	if code != 0 {
		t.Fatalf("walk: exit %d: %q", code, stderr)
	}
	slices.Sort(declared)
	slices.Sort(live)
	if !slices.Equal(declared, live) {
		t.Errorf("declared in types/haz.lua:\n%s\nlive in the module:\n%s", strings.Join(declared, "\n"), strings.Join(live, "\n"))
	}
	rc, _ := os.ReadFile(filepath.Join(dir, ".luarc.json"))
	for _, want := range []string{`"Lua 5.1"`, `"types"`, `"haz"`} {
		if !strings.Contains(string(rc), want) {
			t.Errorf(".luarc.json lacks %s:\n%s", want, rc)
		}
	}
	if _, err := exec.LookPath("lua-language-server"); err == nil {
		t.Log("lua-language-server is installed: TestLuaLSCheck runs it")
	}
}

// completionDir returns a project with a build.lua of three tasks, a
// second script other.lua, and a PATH whose "hazlua" is the binary under
// test.
func completionDir(t *testing.T) (dir, path string) {
	t.Helper()
	dir = writeRawScript(t, []byte(`
haz.task("build", {desc = "compile everything", run = function() end})
haz.task("bench", function() end)
haz.task("test", {desc = "run the tests", deps = {"build"}})
`))
	if err := os.WriteFile(filepath.Join(dir, "other.lua"), []byte(`haz.task("otherwise", function() end)`), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(hazluaBin, filepath.Join(bin, "hazlua")); err != nil {
		t.Fatal(err)
	}
	return dir, bin + string(os.PathListSeparator) + os.Getenv("PATH")
}

// needShell returns the shell's path; outside CI a missing shell skips.
func needShell(t *testing.T, shell string) string {
	t.Helper()
	p, err := exec.LookPath(shell)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no %s here: .ci/run must install it", shell)
		}
		t.Skipf("no %s here (.ci/run installs it)", shell)
	}
	return p
}

// shellLines runs argv in dir with PATH and returns its output's lines,
// sorted.
func shellLines(t *testing.T, dir, path string, argv ...string) []string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path, "HOME="+t.TempDir(), "GORACE="+testutil.GoraceEnv())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	slices.Sort(lines)
	return slices.DeleteFunc(lines, func(s string) bool { return s == "" })
}

// TestCompletionBash loads `hazlua --completion bash` into a real bash and
// completes as a user would: flags, flag values, the task names of the
// script hazlua would find here, or of the one -f names.
func TestCompletionBash(t *testing.T) {
	t.Parallel()
	bash := needShell(t, "bash")
	dir, path := completionDir(t)
	for _, tt := range []struct {
		words []string // the words so far; the last is being completed
		want  []string
	}{
		{[]string{"hazlua", "b"}, []string{"bench", "build"}},
		{[]string{"hazlua", ""}, []string{"bench", "build", "test"}},
		{[]string{"hazlua", "-k", "t"}, []string{"test"}},
		{[]string{"hazlua", "-f", "other.lua", "o"}, []string{"otherwise"}},
		{[]string{"hazlua", "--col"}, []string{"--color"}},
		{[]string{"hazlua", "--color", "a"}, []string{"always", "auto"}},
		{[]string{"hazlua", "-o", ""}, []string{"grouped", "prefixed", "raw"}},
		{[]string{"hazlua", "--completion", "f"}, []string{"fish"}},
		{[]string{"hazlua", "--report", "oth"}, []string{"other.lua"}},
	} {
		var quoted []string
		for _, w := range tt.words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := `source <(hazlua --completion bash) && complete -p hazlua >/dev/null && ` +
			`COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=` + strconv.Itoa(len(tt.words)-1) +
			`; _hazlua_complete; printf '%s\n' "${COMPREPLY[@]}"`
		if got := shellLines(t, dir, path, bash, "-c", prog); !slices.Equal(got, tt.want) {
			t.Errorf("bash, %q: %q, want %q", tt.words, got, tt.want)
		}
	}
}

// TestCompletionFish: fish's own completion engine (complete -C) on the
// script hazlua writes, with the descriptions fish shows.
func TestCompletionFish(t *testing.T) {
	t.Parallel()
	fish := needShell(t, "fish")
	dir, path := completionDir(t)
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"hazlua b", []string{"bench", "build\tcompile everything"}},
		{"hazlua -f other.lua o", []string{"otherwise"}},
		{"hazlua --color=n", []string{"--color=never\tcolour WHEN: auto, always or never"}},
	} {
		got := shellLines(t, dir, path, fish, "--no-config", "-c", "hazlua --completion fish | source; complete -C '"+tt.line+"'")
		got = slices.DeleteFunc(got, func(s string) bool { return strings.HasSuffix(s, ".lua") })
		if !slices.Equal(got, tt.want) {
			t.Errorf("fish, %q: %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestCompletionZsh: the zsh script parses and its task function lists the
// tasks with their descriptions (compdef and _describe stubbed: completion
// proper needs an interactive zsh).
func TestCompletionZsh(t *testing.T) {
	t.Parallel()
	zsh := needShell(t, "zsh")
	dir, path := completionDir(t)
	prog := `compdef() { :; }; _describe() { print -rl -- "${(@P)4}"; }; source <(hazlua --completion zsh)` +
		`; words=(hazlua b); CURRENT=2; _hazlua_tasks`
	want := []string{"bench", "build:compile everything", "test:run the tests"}
	if got := shellLines(t, dir, path, zsh, "-f", "-c", prog); !slices.Equal(got, want) {
		t.Errorf("zsh tasks: %q, want %q", got, want)
	}
}
