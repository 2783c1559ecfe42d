package completion

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Tests run the generated scripts in real shells, with a fake command "hz"
// on PATH whose --complete-tasks prints two tasks and a third that shows
// the arguments it was given ("sel:-f_other.lua"), so that a test sees
// what the script passed on. The binary's own --complete-tasks is tested
// end to end in internal/cli.

var testFlags = []Flag{
	{Long: "file", Short: "f", Doc: "the script PATH", Arg: ArgFile},
	{Long: "directory", Short: "C", Doc: "change to DIR", Arg: ArgDir},
	{Long: "output", Short: "o", Doc: "task output MODE", Arg: ArgWord, Words: []string{"prefixed", "grouped", "raw"}},
	{Long: "color", Doc: "colour WHEN: it's [auto]", Arg: ArgWord, Words: []string{"auto", "always", "never"}},
	{Long: "jobs", Short: "j", Doc: "at most N tasks", Arg: ArgWord},
	{Long: "keep-going", Short: "k", Doc: "keep going"},
	{Long: "list", Short: "l", Doc: "list tasks"},
}

// fakeCommand puts an executable "hz" into a new directory and returns
// the PATH to use.
func fakeCommand(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n" +
		"[ \"$1\" = --complete-tasks ] || exit 1\nshift\n" +
		"printf 'build\\tbuild: it all\\ntest\\trun the tests\\n'\n" +
		"printf 'sel:%s\\tthe selection\\n' \"$(echo \"$@\" | tr ' ' _)\"\n"
	if err := os.WriteFile(filepath.Join(dir, "hz"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

func script(t *testing.T, shell string) string {
	t.Helper()
	s, err := Script(shell, "hz", testFlags)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hz."+shell)
	if err := os.WriteFile(p, s, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func needShell(t *testing.T, shell string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no %s here: .ci/run must install it", shell)
		}
		t.Skipf("no %s here (.ci/run installs it)", shell)
	}
}

func run(t *testing.T, path string, argv ...string) []string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+path, "HOME="+t.TempDir())
	cmd.Dir = t.TempDir()
	os.WriteFile(filepath.Join(cmd.Dir, "other.lua"), nil, 0o644)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	slices.Sort(lines)
	return slices.DeleteFunc(lines, func(s string) bool { return s == "" })
}

func TestBash(t *testing.T) {
	needShell(t, "bash")
	path, s := fakeCommand(t), script(t, "bash")
	for _, tt := range []struct {
		line string // the words typed so far; the last is being completed
		want []string
	}{
		{"hz --col", []string{"--color"}},
		{"hz -", []string{"--color", "--directory", "--file", "--jobs", "--keep-going", "--list", "--output", "-C", "-f", "-j", "-k", "-l", "-o"}},
		{"hz --color a", []string{"always", "auto"}},
		{"hz -o g", []string{"grouped"}},
		{"hz b", []string{"build"}},
		{"hz -k ", []string{"build", "sel:", "test"}},
		{"hz -f other.lua s", []string{"sel:-f_other.lua"}},
		{"hz other.lua s", []string{"sel:other.lua"}},
		{"hz -C sub -k s", []string{"sel:-C_sub"}},
		{"hz build -- ", nil},
	} {
		words := strings.Split(tt.line, " ")
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, shellQuote(w))
		}
		prog := "source " + s + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			itoa(len(words)-1) + "; _hz_complete; printf '%s\\n' \"${COMPREPLY[@]}\""
		if got := run(t, path, "bash", "-c", prog); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("bash, %q: %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestFish(t *testing.T) {
	needShell(t, "fish")
	path, s := fakeCommand(t), script(t, "fish")
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"hz --col", []string{"--color\tcolour WHEN: it's [auto]"}},
		{"hz --color a", []string{"always\tcolour WHEN: it's [auto]", "auto\tcolour WHEN: it's [auto]"}},
		{"hz -o r", []string{"raw\ttask output MODE"}},
		{"hz b", []string{"build\tbuild: it all"}},
		{"hz -f other.lua s", []string{"sel:-f_other.lua\tthe selection"}},
	} {
		got := run(t, path, "fish", "--no-config", "-c", "source "+s+"; complete -C "+shellQuote(tt.line))
		if !slices.Equal(got, tt.want) {
			t.Errorf("fish, %q: %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestZsh runs the zsh script's task function with _describe and compdef
// stubbed (completion proper needs an interactive zsh): it must list the
// tasks with their descriptions, asked for with the selecting arguments,
// and the whole script must parse.
func TestZsh(t *testing.T) {
	needShell(t, "zsh")
	path, s := fakeCommand(t), script(t, "zsh")
	run(t, path, "zsh", "-n", s)
	prog := "compdef() { :; }; _describe() { print -rl -- \"${(@P)4}\"; }; source " + s +
		"; words=(hz -f other.lua b); CURRENT=4; _hz_tasks"
	want := []string{"build:build: it all", "sel\\:-f_other.lua:the selection", "test:run the tests"}
	if got := run(t, path, "zsh", "-f", "-c", prog); !slices.Equal(got, want) {
		t.Errorf("zsh tasks: %q, want %q", got, want)
	}
}

func TestUnknownShell(t *testing.T) {
	if _, err := Script("tcsh", "hz", testFlags); err == nil || !strings.Contains(err.Error(), "bash, zsh, fish") {
		t.Errorf("tcsh: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
