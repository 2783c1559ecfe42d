package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// End-to-end tests of what a script gives a child: argv and environment
// values arrive byte for byte (read back from the kernel:
// /proc/PID/cmdline, /proc/self/environ), and never through a shell; what
// execve cannot take (a NUL byte, an oversized argument) is a clear error;
// children are hazlua's own, each leading its own process group.

// awkwardValues are argument and environment values that a shell, a
// quoting bug or a line-based copy would alter.
func awkwardValues() []string {
	rng := rand.New(rand.NewChaCha8([32]byte{'a', 'r', 'g'}))
	long := make([]byte, 100<<10)
	for i := range long {
		long[i] = byte(1 + rng.IntN(255)) // every byte value but NUL
	}
	return []string{
		"",
		"with space",
		"  leading and trailing  ",
		`"double" 'single' \back\slash`,
		"line1\nline2\n",
		"a=b=c",
		"=leading",
		"unicode é ✓ 日本語 🎉",
		"control \t\r\x01\x1b[31m\x7f",
		"bytes \xff\xfe\x80 not UTF-8",
		"-n",
		"--",
		"$HOME `id` $(id) ; | & * ? [a] {a,b} ~ > <",
		string(long),
	}
}

// TestArgvAndEnvArriveByteExact: arguments and environment values with
// spaces, quotes, newlines, "=", unicode, invalid UTF-8 and 100 KiB reach
// the child exactly, in a spawn, a haz.pipe stage, a spawn's env table
// (with clear_env) and through haz.env.
func TestArgvAndEnvArriveByteExact(t *testing.T) {
	values := awkwardValues()
	dir := writeScript(t, `
local V = `+luaList(values)+`
local argv = {"sh", "-c", "cat /proc/$$/cmdline; exit 0", "sh"}
for _, v in ipairs(V) do argv[#argv + 1] = v end
local r = haz.spawn(argv):wait()
assert(r.ok, "spawn failed")
assert(haz.fs.write("argv.bin", r.stdout))

local pl = haz.pipe(argv, {"cat"})
assert(haz.fs.write("argv-pipe.bin", pl:stdout()))
assert(pl:wait().ok, "pipe failed")

local env = {}
for i, v in ipairs(V) do env["HAZ_V" .. i] = v end
r = haz.spawn{"cat", "/proc/self/environ", env = env, clear_env = true}:wait()
assert(r.ok, "env spawn failed")
assert(haz.fs.write("env.bin", r.stdout))

for i, v in ipairs(V) do haz.env["HAZ_I" .. i] = v end
r = haz.spawn{"cat", "/proc/self/environ"}:wait()
assert(haz.fs.write("env-inherited.bin", r.stdout))
print("done")
`)
	code, _, stderr := runScript(t, dir, runOpts{})
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	wantArgv := []byte("sh\x00-c\x00cat /proc/$$/cmdline; exit 0\x00sh\x00" + strings.Join(values, "\x00") + "\x00")
	for _, name := range []string{"argv.bin", "argv-pipe.bin"} {
		if err := sameBytes(read(name), wantArgv); err != nil {
			t.Errorf("%s: the child's argv differs from the script's: %v", name, err)
		}
	}

	envOf := func(name string) map[string][]string {
		m := map[string][]string{}
		for kv := range strings.SplitSeq(strings.TrimSuffix(string(read(name)), "\x00"), "\x00") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = append(m[k], v)
		}
		return m
	}
	env := envOf("env.bin")
	if len(env) != len(values) {
		t.Errorf("env.bin: %d variables with clear_env, want exactly the %d given", len(env), len(values))
	}
	inherited := envOf("env-inherited.bin")
	for i, v := range values {
		for _, c := range []struct {
			file string
			env  map[string][]string
			name string
		}{{"env.bin", env, fmt.Sprintf("HAZ_V%d", i+1)}, {"env-inherited.bin", inherited, fmt.Sprintf("HAZ_I%d", i+1)}} {
			got := c.env[c.name]
			if len(got) != 1 {
				t.Errorf("%s: %s appears %d times", c.file, c.name, len(got))
				continue
			}
			if err := sameBytes([]byte(got[0]), []byte(v)); err != nil {
				t.Errorf("%s: %s differs: %v", c.file, c.name, err)
			}
		}
	}
}

// TestNULByteIsAClearError: a NUL byte in an argument, the program or an
// environment value cannot reach execve; each is an error naming the
// script's file:line (exit 1), and nothing of the call was started.
func TestNULByteIsAClearError(t *testing.T) {
	tests := []struct {
		name, call, msg string
	}{
		{"spawn argument", `haz.spawn{"touch", "made", "a\0b"}`, `haz\.spawn: argument 2 \("a\\x00b"\) contains a NUL byte`},
		{"run args table", `haz.run{program = "touch", args = {"made", "x\0"}}`, `haz\.run: argument 2 \("x\\x00"\) contains a NUL byte`},
		{"output argument", `haz.output{"touch", "made\0"}`, `haz\.output: argument 1 \("made\\x00"\) contains a NUL byte`},
		{"pipe stage", `haz.pipe({"touch", "made"}, {"touch", "made2", "\0"})`, `haz\.pipe stage 2: argument 2 \("\\x00"\) contains a NUL byte`},
		{"program", `haz.spawn{"touch\0", "made"}`, `haz\.spawn: program "touch\\x00" contains a NUL byte`},
		{"env value", `haz.spawn{"touch", "made", env = {X = "a\0b"}}`, `haz\.spawn: env X contains a NUL byte`},
		{"haz.env value", `haz.env.X = "a\0b"; haz.run{"touch", "made"}`, `haz\.env: value for "X" contains a NUL byte`},
		{"haz.sh command", `haz.sh("touch made\0x")`, `haz\.sh: .*contains a NUL byte`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The call is on line 3 of build.lua (the prelude is line 1).
			dir := writeScript(t, "local x = 1\n"+tt.call+"\nprint('not reached')\n")
			code, stdout, stderr := runScript(t, dir, runOpts{})
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			re := regexp.MustCompile(`^hazlua: build\.lua:3: ` + tt.msg + `$`)
			if len(stderr) != 1 || !re.MatchString(stderr[0]) {
				t.Errorf("stderr:\n%s\nwant one line matching %s", strings.Join(stderr, "\n"), re)
			}
			if len(stdout) != 0 {
				t.Errorf("stdout: %q", stdout)
			}
			if names := dirNames(dir); len(names) != 1 {
				t.Errorf("the directory holds %q: a process of the failing call ran", names)
			}
		})
	}
}

// TestOversizedArgvIsAClearError: an argument or an environment value
// over the kernel's 128 KiB limit for one string, or an argv over its
// total limit, cannot be passed to execve (E2BIG). Each is an error
// naming the script's file:line, the script can catch it, and nothing of
// the call is left running (a pipeline's first stage included).
func TestOversizedArgvIsAClearError(t *testing.T) {
	dir := writeScript(t, `
local huge = string.rep("x", 200 * 1024)
local many = {"true"}
for i = 1, 40 do many[#many + 1] = string.rep("y", 100 * 1024) end
print(pcall(haz.spawn, {"true", huge}))
print(pcall(haz.spawn, {"true", env = {X = huge}}))
print(pcall(haz.run, many))
print(pcall(haz.pipe, {"sleep", "1000"}, many))
print("alive")
`)
	r := startHazlua(t, dir, nil, runOpts{})
	code := r.exitCode(t)
	stderr := r.stderrLines(t)
	checkNoGoTrace(t, stderr)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	r.stdout.waitEOF(deadline)
	want := []string{
		"false\tbuild.lua:6: haz.spawn: cannot start \"true\": argument list too long",
		"false\tbuild.lua:7: haz.spawn: cannot start \"true\": argument list too long",
		"false\tbuild.lua:8: haz.run: cannot start \"true\": argument list too long",
		"false\tbuild.lua:9: haz.pipe: cannot start \"true\": argument list too long",
		"alive",
	}
	if got := r.stdout.all(); !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := survivors(r.token); len(s) > 0 {
		t.Errorf("processes left after hazlua exited: %s", survivorList(r.token))
	}
}

// shellMeta are arguments that a shell would act on.
var shellMeta = []string{
	"$(touch pwned1)", "`touch pwned2`", "; touch pwned3", "| touch pwned4", "&& touch pwned5",
	"> pwned6", "\ntouch pwned7", "$HOME", "*", "'", `"`, `\`, "# comment", "~", "a b",
}

// TestArgvNeverReachesAShell: shell metacharacters in an argv arrive
// literally, through haz.spawn, haz.run, haz.output, haz.pipe stages and a
// task; a program name with them is not found; no command they spell runs.
// The control: haz.sh, os.execute and io.popen, which do use a shell, do
// run theirs, so the test would see a shell if one were used.
func TestArgvNeverReachesAShell(t *testing.T) {
	dir := writeScript(t, `
local META = `+luaList(shellMeta)+`
local argv = {"printf", "%s\\0"}
for _, m in ipairs(META) do argv[#argv + 1] = m end
local function save(name, s) assert(haz.fs.write(name, s)) end
save("spawn.out", haz.spawn(argv):wait().stdout)
local spec = {stdout = {file = "run.out"}}
for i, v in ipairs(argv) do spec[i] = v end
haz.run(spec)
save("output.out", haz.output(argv)) -- ends with NUL: nothing to trim
local pl = haz.pipe(argv, {"cat"})
save("pipe.out", pl:stdout())
assert(pl:wait().ok)
local ok, err = pcall(haz.spawn, {"true; touch pwned8"})
assert(not ok and err:find("not found"), tostring(err))
ok, err = pcall(haz.spawn, {"$(touch pwned9)"})
assert(not ok and err:find("not found"), tostring(err))
haz.task("t", function() save("task.out", haz.spawn(argv):wait().stdout) end)

-- The control: these are documented to use sh -c.
haz.sh("touch control-sh")
os.execute("touch control-execute")
io.popen("touch control-popen"):close()
`)
	code, _, stderr := runScript(t, dir, runOpts{}, "t")
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	want := strings.Join(shellMeta, "\x00") + "\x00"
	for _, name := range []string{"spawn.out", "run.out", "output.out", "pipe.out", "task.out"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := sameBytes(got, []byte(want)); err != nil {
			t.Errorf("%s: the arguments did not arrive literally: %v", name, err)
		}
	}
	names := dirNames(dir)
	for _, n := range names {
		if strings.HasPrefix(n, "pwned") {
			t.Errorf("%s exists: a shell ran a command spelled by an argument", n)
		}
	}
	for _, c := range []string{"control-sh", "control-execute", "control-popen"} {
		if !slices.Contains(names, c) {
			t.Errorf("%s is missing: the shell-using control did not run (directory: %q)", c, names)
		}
	}
}

// TestChildParentIsHazlua: a spawned program's parent is hazlua itself,
// not a shell, whether spawned at the top level, by haz.run, as a
// haz.pipe stage or in a task; each spawn leads its own process group, and
// the stages of a pipe share the first one's (docs/api.md: Processes).
func TestChildParentIsHazlua(t *testing.T) {
	dir := writeScript(t, `
io.write(haz.spawn{"cat", "/proc/self/stat"}:wait().stdout)
haz.run{"cat", "/proc/self/stat"}
io.write(haz.pipe({"cat", "/proc/self/stat"}, {"cat", "-", "/proc/self/stat"}):stdout())
haz.task("t", function() haz.run{"cat", "/proc/self/stat"} end)
`)
	r := startHazlua(t, dir, nil, runOpts{}, "-q", "t")
	code := r.exitCode(t)
	stderr := r.stderrLines(t)
	checkNoGoTrace(t, stderr)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	r.stdout.waitEOF(deadline)
	lines := r.stdout.all()
	if len(lines) != 5 {
		t.Fatalf("stdout has %d lines, want 5 stat lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	hazlua := r.cmd.Process.Pid
	var st [5]procStat
	for i, l := range lines {
		l = strings.TrimPrefix(l, "[t] ")
		var err error
		if st[i], err = parseStat(l); err != nil {
			t.Fatal(err)
		}
		if st[i].comm != "cat" || st[i].ppid != hazlua {
			t.Errorf("line %d: %s (pid %d) has parent %d; want cat with parent hazlua (%d)", i+1, st[i].comm, st[i].pid, st[i].ppid, hazlua)
		}
	}
	for _, i := range []int{0, 1, 2, 4} {
		if st[i].pgrp != st[i].pid {
			t.Errorf("line %d: pid %d is in group %d, not a group of its own", i+1, st[i].pid, st[i].pgrp)
		}
	}
	if st[3].pgrp != st[2].pid {
		t.Errorf("pipe stage 2 (pid %d) is in group %d, not stage 1's (%d)", st[3].pid, st[3].pgrp, st[2].pid)
	}
}
