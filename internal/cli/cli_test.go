package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hazlua/hazlua/luaapi"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want options // help is only checked for being set
	}{
		{"defaults", nil, options{jobs: runtime.NumCPU(), output: "prefixed", grace: 5 * time.Second, color: "auto"}},
		{
			"everything",
			[]string{"-f", "x.lua", "-C", "d", "-j0", "-k", "-l", "-n", "-o", "raw", "--grace", "1.5", "-v", "-q", "--color=never", "a", "b"},
			options{file: "x.lua", dir: "d", jobs: 0, keepGoing: true, list: true, dryRun: true, output: "raw",
				grace: 1500 * time.Millisecond, verbose: true, quiet: true, color: "never", positional: []string{"a", "b"}},
		},
		{
			"long forms",
			[]string{"--file=x.lua", "--directory=d", "--jobs=3", "--fail-fast", "--list", "--dry-run", "--output=grouped", "--grace=1m", "--verbose", "--quiet", "--color", "always"},
			options{file: "x.lua", dir: "d", jobs: 3, failFast: true, list: true, dryRun: true, output: "grouped",
				grace: time.Minute, verbose: true, quiet: true, color: "always"},
		},
		{
			"script arguments after --",
			[]string{"-j2", "build.lua", "a", "--", "-k", "--x", ""},
			options{jobs: 2, output: "prefixed", grace: 5 * time.Second, color: "auto",
				positional: []string{"build.lua", "a"}, scriptArgs: []string{"-k", "--x", ""}},
		},
		{
			"help wins over bad values",
			[]string{"-j", "-1", "--help"},
			options{help: "set", jobs: -1, output: "prefixed", color: "auto"},
		},
		{
			"version wins over bad values",
			[]string{"--version", "--color", "x"},
			options{version: true, jobs: runtime.NumCPU(), output: "prefixed", color: "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs(tt.args)
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tt.args, err)
			}
			if (got.help != "") != (tt.want.help != "") {
				t.Errorf("help = %v, want %v", got.help != "", tt.want.help != "")
			}
			got.help, tt.want.help = "", ""
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("parseArgs(%q)\n got %+v\nwant %+v", tt.args, *got, tt.want)
			}
		})
	}
}

// TestParseArgsWithoutFlags: a command line without flags, which
// parseArgs reads without a FlagSet, gives what the FlagSet gives.
func TestParseArgsWithoutFlags(t *testing.T) {
	for _, args := range [][]string{nil, {}, {"build.lua"}, {"x.lua", "a", "b"}, {"t1", "t2"}, {"-", "", "a-b", "x=-1"}} {
		if hasFlags(args) {
			t.Fatalf("hasFlags(%q) = true", args)
		}
		want, werr := parseArgsWith(args, true)
		got, err := parseArgs(args)
		if fmt.Sprintf("%+v %v", want, werr) != fmt.Sprintf("%+v %v", got, err) {
			t.Errorf("parseArgs(%q) = %+v, %v; with a FlagSet: %+v, %v", args, got, err, want, werr)
		}
	}
	for _, args := range [][]string{{"-k"}, {"a", "--"}, {"--x"}, {"a", "-j2"}} {
		if !hasFlags(args) {
			t.Errorf("hasFlags(%q) = false", args)
		}
	}
}

func TestParseArgsUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"-Z"}, "unknown shorthand flag: 'Z' in -Z"},
		{[]string{"-f"}, "flag needs an argument: 'f' in -f"},
		{[]string{"-j", "x"}, `invalid argument "x" for "-j, --jobs" flag: must be an integer`},
		{[]string{"-j", "-1"}, "-j must be 0 (no cap) or more, not -1"},
		{[]string{"--grace", "abc"}, `--grace: "abc" is not a duration (like "1m30s" or a number of seconds)`},
		{[]string{"--grace", "0"}, "--grace: 0 must be greater than zero"},
		{[]string{"--grace=-1s"}, `--grace: "-1s" must be greater than zero`},
		{[]string{"--color", "sometimes"}, `--color must be auto, always or never, not "sometimes"`},
		{[]string{"-o", "fancy"}, `-o must be prefixed, grouped or raw, not "fancy"`},
		{[]string{"--output="}, `-o must be prefixed, grouped or raw, not ""`},
		{[]string{"-k", "--fail-fast"}, "-k and --fail-fast cannot be used together"},
		// The first problem is the one reported, in a fixed order.
		{[]string{"-k", "--fail-fast", "-o", "x", "--color", "x", "--grace", "x", "-j", "-2"}, "-j must be 0 (no cap) or more, not -2"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseArgs(tt.args)
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseArgs(%q) = %v (%T), want a *usageError", tt.args, err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err, tt.want)
			}
			if got := ExitStatus(err); got != ExitUsage {
				t.Errorf("ExitStatus = %d, want %d", got, ExitUsage)
			}
		})
	}
}

// runMain runs Main in this process with files for its output and returns
// the exit status, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	code := Main(args, nil, stdout, stderr)
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	return code, string(out), string(errOut)
}

func TestMainUsage(t *testing.T) {
	t.Run("usage error", func(t *testing.T) {
		code, out, errOut := runMain(t, "-o", "fancy")
		want := "hazlua: -o must be prefixed, grouped or raw, not \"fancy\"\nRun 'hazlua --help' for usage.\n"
		if code != ExitUsage || out != "" || errOut != want {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no stdout, stderr %q", code, out, errOut, ExitUsage, want)
		}
	})
	t.Run("help", func(t *testing.T) {
		code, out, errOut := runMain(t, "-h")
		if code != ExitOK || !strings.HasPrefix(out, "Usage: hazlua [flags] [SCRIPT] [TASK...] [-- ARG...]\n") ||
			!strings.Contains(out, "-j, --jobs N") || errOut != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("version", func(t *testing.T) {
		code, out, errOut := runMain(t, "--version")
		if code != ExitOK || !strings.HasPrefix(out, "hazlua "+luaapi.Version+" (go") || errOut != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("-C missing", func(t *testing.T) {
		t.Chdir(t.TempDir())
		code, _, errOut := runMain(t, "-C", "nowhere")
		want := "hazlua: -C: chdir nowhere: no such file or directory\nRun 'hazlua --help' for usage.\n"
		if code != ExitUsage || errOut != want {
			t.Errorf("exit %d, stderr %q; want exit %d, stderr %q", code, errOut, ExitUsage, want)
		}
	})
	t.Run("-C before the search for build.lua", func(t *testing.T) {
		top := t.TempDir()
		if err := os.Mkdir(filepath.Join(top, "empty"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(top)
		code, _, errOut := runMain(t, "-C", "empty")
		want := "hazlua: no build.lua in " + filepath.Join(resolved(t, top), "empty") + " or any parent directory"
		if code != ExitUsage || !strings.HasPrefix(errOut, want) {
			t.Errorf("exit %d, stderr %q; want exit %d, stderr starting %q", code, errOut, ExitUsage, want)
		}
	})
	t.Run("missing script", func(t *testing.T) {
		t.Chdir(t.TempDir())
		code, _, errOut := runMain(t, "-f", "nope.lua")
		want := "hazlua: script nope.lua: no such file or directory\n"
		if code != ExitUsage || errOut != want {
			t.Errorf("exit %d, stderr %q; want exit %d, stderr %q", code, errOut, ExitUsage, want)
		}
	})
}

// resolved returns dir with symlinks resolved, as os.Getwd shows it.
func resolved(t *testing.T, dir string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolveScript(t *testing.T) {
	top := resolved(t, t.TempDir())
	deep := filepath.Join(top, "a", "b")
	for _, d := range []string{deep, filepath.Join(top, "a", "build.lua")} {
		// a/build.lua is a directory: the search must pass it by.
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(top, "build.lua"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	tests := []struct {
		name       string
		file       string
		positional []string
		script     string
		tasks      []string
	}{
		{"-f: every positional is a task", "x", []string{"y.lua", "t"}, "x", []string{"y.lua", "t"}},
		{"a first positional ending in .lua", "", []string{"y.lua", "t"}, "y.lua", []string{"t"}},
		{"only the first positional", "", []string{"t", "y.lua"}, filepath.Join(top, "build.lua"), []string{"t", "y.lua"}},
		{"build.lua in a parent", "", nil, filepath.Join(top, "build.lua"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, tasks, err := resolveScript(tt.file, tt.positional)
			if err != nil || script != tt.script || !slices.Equal(tasks, tt.tasks) {
				t.Errorf("resolveScript(%q, %q) = %q, %q, %v; want %q, %q", tt.file, tt.positional, script, tasks, err, tt.script, tt.tasks)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		if _, err := os.Stat("/build.lua"); err == nil {
			t.Skip("/build.lua exists")
		}
		none := resolved(t, t.TempDir())
		t.Chdir(none)
		_, _, err := resolveScript("", []string{"t"})
		want := "no build.lua in " + none + " or any parent directory (give a script, or -f PATH)"
		var ue *usageError
		if !errors.As(err, &ue) || err.Error() != want {
			t.Errorf("resolveScript = %v (%T), want the usage error %q", err, err, want)
		}
	})
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"usage error", usageErrorf("bad"), 2},
		{"run-time failure", &luaapi.Error{Kind: luaapi.KindRuntime, Msg: "build.lua:1: boom"}, 1},
		{"zero Error", &luaapi.Error{}, 1},
		{"bad configuration", &luaapi.Error{Kind: luaapi.KindUsage, Msg: "script x: no such file or directory"}, 2},
		{"load error", &luaapi.Error{Kind: luaapi.KindLoad, Msg: "build.lua:1: syntax error"}, 2},
		{"definition error", &luaapi.Error{Kind: luaapi.KindDefinition, Msg: `unknown task "x"`}, 2},
		{"SIGINT", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGINT}, 130},
		{"SIGTERM", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGTERM}, 143},
		{"SIGHUP", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGHUP}, 129},
		{"SIGQUIT", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGQUIT}, 131},
		{"closed output", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGPIPE}, 141},
		{"a stop beats a failure", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGINT, Msg: "build.lua:3: boom"}, 130},
		{"os.exit(3)", &luaapi.Error{Kind: luaapi.KindStopped, Status: 3}, 3},
		{"os.exit(0)", &luaapi.Error{Kind: luaapi.KindStopped}, 0},
		{"wrapped", fmt.Errorf("x: %w", &luaapi.Error{Kind: luaapi.KindLoad}), 2},
		{"any other error", errors.New("?"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitStatus(tt.err); got != tt.want {
				t.Errorf("ExitStatus(%#v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"nil", nil, 0, ""},
		{"usage", usageErrorf("-j must be 0 (no cap) or more, not -1"), 2,
			"hazlua: -j must be 0 (no cap) or more, not -1\nRun 'hazlua --help' for usage.\n"},
		{"message", &luaapi.Error{Msg: "build.lua:2: boom\n  detail"}, 1, "hazlua: build.lua:2: boom\n  detail\n"},
		{"nothing to say", &luaapi.Error{Kind: luaapi.KindStopped, Signal: syscall.SIGTERM}, 143, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if code := report(errWriter{Writer: &b}, tt.err); code != tt.code || b.String() != tt.stderr {
				t.Errorf("report: %d, %q; want %d, %q", code, b.String(), tt.code, tt.stderr)
			}
		})
	}
}

func TestParseSizeAndAge(t *testing.T) {
	for s, want := range map[string]int64{"1": 1, "512B": 512, "1k": 1024, "500M": 500 << 20, "2G": 2 << 30,
		"1.5GiB": 3 << 29, "2gb": 2 << 30, "1T": 1 << 40} {
		if got, err := parseSize(s); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1M", "0", "1X", "M", "1e30G"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
	for s, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "0.5d": 12 * time.Hour, "72h": 72 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseAge(s); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "3weeks", "-1d", "0d", "0s", "d"} {
		if got, err := parseAge(bad); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", bad, got)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 34 << 20: "34.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestColorEnabled: --color, then NO_COLOR, FORCE_COLOR, CLICOLOR_FORCE,
// CLICOLOR, then whether stderr is a terminal (here a file: not one).
func TestColorEnabled(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		flag string
		env  map[string]string
		want bool
	}{
		{"auto", nil, false},
		{"always", nil, true},
		{"always", map[string]string{"NO_COLOR": "1"}, true},
		{"never", map[string]string{"FORCE_COLOR": "1"}, false},
		{"auto", map[string]string{"FORCE_COLOR": "1"}, true},
		{"auto", map[string]string{"FORCE_COLOR": "3"}, true},
		{"auto", map[string]string{"FORCE_COLOR": "0"}, false},
		{"auto", map[string]string{"FORCE_COLOR": "false"}, false},
		{"auto", map[string]string{"FORCE_COLOR": ""}, false},
		{"auto", map[string]string{"NO_COLOR": "1", "FORCE_COLOR": "1"}, false},
		{"auto", map[string]string{"NO_COLOR": "", "FORCE_COLOR": "1"}, true},
		{"auto", map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{"auto", map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{"auto", map[string]string{"FORCE_COLOR": "0", "CLICOLOR_FORCE": "1"}, false},
		{"auto", map[string]string{"CLICOLOR": "0", "CLICOLOR_FORCE": "1"}, true},
		{"auto", map[string]string{"CLICOLOR": "1"}, false},
	}
	for _, tt := range tests {
		got := colorEnabled(tt.flag, f, func(k string) string { return tt.env[k] })
		if got != tt.want {
			t.Errorf("--color=%s %v: %v, want %v", tt.flag, tt.env, got, tt.want)
		}
	}
}
