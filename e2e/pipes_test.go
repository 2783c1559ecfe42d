package e2e

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// End-to-end tests of what a script gets back from its children:
// captures (in memory, and spilled to TMPDIR past 4 MiB), haz.pipe and
// every other way of reading output give the bytes exactly, at any size;
// spilled data is private and removed, and a capture that cannot spill
// fails loudly.

// TestCapturedAndPipedBytesExact: binary output with every byte value and
// no final newline comes back unchanged through every way a script reads
// a child's output: a capture, haz.pipe, input =, :lines(), haz.output,
// stdout = {file = ...}, and a task's inherited stdout in grouped mode.
func TestCapturedAndPipedBytesExact(t *testing.T) {
	var data []byte
	for range 3 {
		for c := range 256 {
			data = append(data, byte(c))
		}
	}
	data = append(data, "\r\n\n\x00last line, no newline"...)
	dir := writeScript(t, `
local data = assert(haz.fs.read("in.bin"))
local function save(name, s) assert(haz.fs.write(name, s)) end
save("capture.bin", haz.spawn{"cat", "in.bin"}:wait().stdout)
save("stderr.bin", haz.spawn{"sh", "-c", "cat in.bin >&2", stderr = "capture"}:wait().stderr)
local pl = haz.pipe({"cat", stdin = {file = "in.bin"}}, {"cat"}, {"cat"})
save("pipe.bin", pl:stdout())
assert(pl:wait().ok)
save("input.bin", haz.spawn{"cat", input = data}:wait().stdout)
local lines = {}
for l in haz.spawn{"cat", "in.bin", stdout = "pipe"}:lines() do lines[#lines + 1] = l end
save("lines.bin", table.concat(lines, "\n"))
save("output.bin", haz.output{"cat", "in.bin"})
haz.run{"cat", "in.bin", stdout = {file = "file.bin"}}
haz.task("t", function() haz.run{"cat", "in.bin"} end)
`)
	if err := os.WriteFile(filepath.Join(dir, "in.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	code, _, stderr := runScript(t, dir, runOpts{stdout: out}, "-o", "grouped", "-q", "t")
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	for _, name := range []string{"capture.bin", "stderr.bin", "pipe.bin", "input.bin", "lines.bin", "output.bin", "file.bin"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := sameBytes(got, data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Grouped mode holds the task's output and adds a newline after its
	// final partial line (docs/api.md: Output), nothing else.
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := sameBytes(got, append(bytes.Clone(data), '\n')); err != nil {
		t.Errorf("grouped task output: %v (a lost final partial line: see TestFinalPartialLineNotLost)", err)
	}
}

// TestSingleLine100MB: a single 100 MB line of random bytes, no newline
// anywhere, captured and sent through a two-stage haz.pipe, comes back
// with the same SHA-256 (docs/api.md: Guarantees: gigabytes, no final newline).
func TestSingleLine100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB of I/O; skipped with -short")
	}
	const size = 100_000_000
	dir := writeScript(t, `
local r = haz.spawn{"cat", "big.bin"}:wait()
assert(r.ok, "capture failed")
assert(haz.fs.write("captured.bin", r.stdout))
r = nil
collectgarbage()
local pl = haz.pipe({"cat", stdin = {file = "big.bin"}}, {"cat"})
assert(haz.fs.write("piped.bin", pl:stdout()))
assert(pl:wait().ok, "pipe failed")
`)
	rng := rand.NewChaCha8([32]byte{'1', '0', '0', 'M', 'B'})
	big := make([]byte, size)
	rng.Read(big)
	for i, c := range big {
		if c == '\n' {
			big[i] = 'N'
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	big = nil
	// Spilled captures go to TMPDIR: keep them in the test's directory.
	code, _, stderr := runScript(t, dir, runOpts{wrap: []string{"env", "TMPDIR=" + t.TempDir()}})
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(stderr, "\n"))
	}
	want, n := fileSHA256(t, filepath.Join(dir, "big.bin"))
	if n != size {
		t.Fatalf("big.bin has %d bytes", n)
	}
	for _, name := range []string{"captured.bin", "piped.bin"} {
		got, n := fileSHA256(t, filepath.Join(dir, name))
		if got != want || n != size {
			t.Errorf("%s: %d bytes, sha256 %s; want %d bytes, sha256 %s", name, n, got, size, want)
		}
	}
}

// TestLargeOutput: 16 MiB of random bytes (NULs, no final newline) on a
// child's stdout and stderr at once, captured without deadlock or a lost
// byte; and 16 MiB through a three-stage haz.pipe. The script writes what
// it got to files that the test compares byte for byte (docs/api.md: Guarantees).
func TestLargeOutput(t *testing.T) {
	const size = 16 << 20
	dir := writeScript(t, `
local p = haz.spawn{"sh", "-c", "cat out.bin & cat err.bin >&2; wait", stderr = "capture"}
local r = p:wait()
assert(r.ok, "child failed")
assert(haz.fs.write("got-out.bin", r.stdout))
local f = assert(io.open("got-err.bin", "wb"))
f:write(p:stderr())
f:close()
assert(p:stdout() == r.stdout, ":stdout() differs from the result's stdout")

local pl = haz.pipe({"cat", stdin = {file = "in.bin"}}, {"cat"}, {"cat"})
local data = pl:stdout()
local pr = pl:wait()
assert(pr.ok, "pipeline failed")
assert(#pr.results == 3, "want 3 stage results")
assert(haz.fs.write("got-pipe.bin", data))
print("done")
`)
	rng := rand.NewChaCha8([32]byte{'h', 'a', 'z'})
	want := map[string][]byte{}
	for _, name := range []string{"out.bin", "err.bin", "in.bin"} {
		b := make([]byte, size)
		rng.Read(b)
		b[size-1] = 0 // and no final newline
		want[name] = b
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := startHazlua(t, dir, nil, runOpts{})
	code := r.exitCode(t)
	lines := r.stderrLines(t)
	checkNoGoTrace(t, lines)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, strings.Join(lines, "\n"))
	}
	for got, src := range map[string]string{"got-out.bin": "out.bin", "got-err.bin": "err.bin", "got-pipe.bin": "in.bin"} {
		t.Run(got, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, got))
			if err != nil {
				t.Fatal(err)
			}
			if err := sameBytes(b, want[src]); err != nil {
				t.Errorf("%s differs from %s: %v", got, src, err)
			}
		})
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
			fifo := mkfifo(t, t.TempDir(), "go.fifo")
			w := watchDir(t, dir)
			// hazlua's stdout is a file: grouped mode writes 6 MB to it.
			out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			args := append(append([]string{"-q"}, tt.flags...), "--", fifo)
			r := startHazlua(t, dir, nil, runOpts{stdout: out, wrap: []string{"env", "TMPDIR=" + tmpdir}}, args...)
			w.waitName(t, "the file the script writes once it spilled", func(n string) bool { return n == "spilled" })

			fds := openFiles(t, r.cmd.Process.Pid, tmpdir+"/")
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
			if names := dirNames(tmpdir); len(names) != 0 {
				t.Errorf("TMPDIR holds %q while hazlua runs", names)
			}

			fw := openFIFOWriter(t, fifo, r)
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
			if names := dirNames(tmpdir); len(names) != 0 {
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
	code, stdout, stderr := runScript(t, dir, runOpts{wrap: []string{"env", "TMPDIR=" + missing}})
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
