package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// End-to-end safety tests (SPEC S4, S9): no shell stands between a
// script's argv and the program; children are hazlua's own; the temporary
// files that hold large captures and grouped output are private and gone
// when hazlua is.

// relShellMeta are arguments that a shell would act on.
var relShellMeta = []string{
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
local META = `+relLuaList(relShellMeta)+`
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
	code, _, stderr := relRun(t, dir, runOpts{}, "t")
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	want := strings.Join(relShellMeta, "\x00") + "\x00"
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
	names := relNames(dir)
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
// the stages of a pipe share the first one's (SPEC S4).
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
	var st [5]relProcStat
	for i, l := range lines {
		l = strings.TrimPrefix(l, "[t] ")
		var err error
		if st[i], err = relParseStat(l); err != nil {
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

// TestTempFilesArePrivateAndRemoved: a capture over 4 MiB spills to an
// O_TMPFILE file, and grouped output over 4 MiB to an unlinked file, in
// $TMPDIR. While hazlua runs they have no name in $TMPDIR (only open
// descriptors, marked deleted) and mode 0600; after it exits $TMPDIR is
// empty.
func TestTempFilesArePrivateAndRemoved(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		body  string
	}{
		{"capture", nil, `
local p = haz.spawn{"sh", "-c", "head -c 6000000 /dev/zero; echo; echo ready; read x", stdin = "pipe"}
for line in p:lines() do if line == "ready" then break end end
assert(haz.fs.write("spilled", ""))
local f = assert(io.open(haz.args[1]))
f:read("*l")
f:close()
p:write("\n")
p:close()
local r = p:wait()
assert(r.ok, "the child failed")
assert(#r.stdout == 6000007 and r.stdout:sub(-7) == "\nready\n", "capture lost bytes: " .. #r.stdout)
`},
		{"grouped output", []string{"-o", "grouped", "t"}, `
haz.task("t", function()
  haz.run{"head", "-c", "6000000", "/dev/zero"}
  assert(haz.fs.write("spilled", ""))
  local f = assert(io.open(haz.args[1]))
  f:read("*l")
  f:close()
end)
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpdir := t.TempDir()
			dir := writeScript(t, tt.body)
			fifo := relMkfifo(t, t.TempDir(), "go.fifo")
			w := relWatchDir(t, dir)
			// hazlua's stdout is a file: grouped mode writes 6 MB to it.
			out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			args := append(append([]string{"-q"}, tt.flags...), "--", fifo)
			r := startHazlua(t, dir, nil, runOpts{stdout: out, wrap: []string{"env", "TMPDIR=" + tmpdir}}, args...)
			w.waitName(t, "the file the script writes once it spilled", func(n string) bool { return n == "spilled" })

			fds := relOpenFiles(t, r.cmd.Process.Pid, tmpdir+"/")
			if len(fds) == 0 {
				t.Errorf("hazlua has no file open in TMPDIR %s: it spilled elsewhere", tmpdir)
			}
			for _, fd := range fds {
				if !strings.HasSuffix(fd.link, " (deleted)") {
					t.Errorf("fd %d: %s is not unlinked", fd.fd, fd.link)
				}
				if fd.mode.Type() != 0 || fd.mode.Perm() != 0o600 {
					t.Errorf("fd %d: %s has mode %v, want a regular file with 0600", fd.fd, fd.link, fd.mode)
				}
				t.Logf("fd %d: %s, %v", fd.fd, fd.link, fd.mode)
			}
			if names := relNames(tmpdir); len(names) != 0 {
				t.Errorf("TMPDIR holds %q while hazlua runs", names)
			}

			fw := relOpenFIFOWriter(t, fifo)
			if _, err := fw.WriteString("go\n"); err != nil {
				t.Fatal(err)
			}
			fw.Close()
			code := r.exitCode(t)
			stderr := r.stderrLines(t)
			checkNoGoTrace(t, stderr)
			if code != 0 {
				t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
			}
			if names := relNames(tmpdir); len(names) != 0 {
				t.Errorf("TMPDIR holds %q after hazlua exited", names)
			}
			if tt.name == "grouped output" {
				fi, err := os.Stat(out.Name())
				if err != nil || fi.Size() != 6000000+1 {
					t.Errorf("grouped output: %v bytes (%v), want %d", fi.Size(), err, 6000000+1)
				}
			}
		})
	}
}

// TestCaptureWithUnusableTmpdir: when a capture over 4 MiB cannot spill
// ($TMPDIR missing), the failure is loud: the result is not ok and names
// the problem, :stdout() and haz.output raise; the script never gets a
// silently truncated string.
func TestCaptureWithUnusableTmpdir(t *testing.T) {
	dir := writeScript(t, `
local p = haz.spawn{"head", "-c", "6000000", "/dev/zero"}
local r = p:wait()
print(r.ok, r.code, r.stdout == nil, r.error)
print(pcall(p.stdout, p))
print(pcall(haz.output, {"head", "-c", "6000000", "/dev/zero"}))
print(#haz.output{"head", "-c", "4000000", "/dev/zero"})
`)
	missing := filepath.Join(t.TempDir(), "missing")
	code, stdout, stderr := relRun(t, dir, runOpts{wrap: []string{"env", "TMPDIR=" + missing}})
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	want := []string{
		"false\t0\ttrue\tproc: capture: temporary file in " + missing + ": no such file or directory",
		"false\tbuild.lua:6: haz.process:stdout: proc: capture: temporary file in " + missing + ": no such file or directory",
		"false\tbuild.lua:7: haz.output: \"head\" proc: capture: temporary file in " + missing + ": no such file or directory",
		strconv.Itoa(4000000), // below 4 MiB nothing spills
	}
	if !slices.Equal(stdout, want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", strings.Join(stdout, "\n"), strings.Join(want, "\n"))
	}
}
