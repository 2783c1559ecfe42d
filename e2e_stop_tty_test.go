package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// TestStopLineUnderStatusLine: at a terminal, the status line is drawn at
// the bottom of stderr while a task runs; the stopping line that a signal
// brings must clear it and start a line of its own, not be glued after
// "[0/1] running: default".
func TestStopLineUnderStatusLine(t *testing.T) {
	r, _, cmd := ttyRun(t, `
haz.task("default", function()
  print("ready")
  haz.run{"sleep", "1000"}
end)
`)
	readUntil(t, r, "ready")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	out := readUntil(t, r, "received SIGINT")
	raw := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if got := screenLine(raw); !strings.HasPrefix(got, "hazlua: received SIGINT, stopping") {
		t.Errorf("the stopping line does not start a line of its own: the terminal shows %q (written: %q)", got, raw)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("hazlua: %v, want exit status 130", err)
	}
}

// TestSpawnEchoUnderStatusLine: the same for the -v echo of a spawn that
// a task makes while the status line is drawn.
func TestSpawnEchoUnderStatusLine(t *testing.T) {
	r, cmd := ttyRunArgs(t, `
haz.task("default", function()
  haz.run{"true"}
end)
`, "-v")
	out := readUntil(t, r, "hazlua: spawn:")
	raw := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if got := screenLine(raw); got != "hazlua: spawn: true" {
		t.Errorf("the spawn echo does not start a line of its own: the terminal shows %q (written: %q)", got, raw)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("hazlua: %v", err)
	}
}

// ttyRunArgs is ttyRun with hazlua's arguments.
func ttyRunArgs(t *testing.T, script string, args ...string) (*bufio.Reader, *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hazluaPath(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE="+goraceEnv())
	master, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		master.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return bufio.NewReader(master), cmd
}

// screenLine returns what a terminal shows for one line of output: a
// carriage return goes back to the first column, ESC [ K erases to the
// end of the line, other escape sequences (colours) show nothing.
func screenLine(s string) string {
	var line []rune
	col := 0
	rs := []rune(strings.TrimRight(s, "\r\n"))
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; {
		case c == '\r':
			col = 0
		case c == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'K' {
				line = line[:min(col, len(line))]
			}
			i = j
		default:
			if col < len(line) {
				line[col] = c
			} else {
				line = append(line, c)
			}
			col++
		}
	}
	return string(line)
}
