package e2e

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hazlua/hazlua/internal/testutil"
)

// End-to-end tests at a terminal: hazlua runs in a new session on a
// pseudo-terminal (creack/pty), as a user at a terminal runs it.

// ttyRun runs hazlua on script in a new session whose controlling
// terminal is a pty, as a user at a terminal does, and returns the pty's
// master side and the running command. args are hazlua's arguments.
func ttyRun(t *testing.T, script string, args ...string) (*bufio.Reader, *os.File, *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hazluaBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE="+testutil.GoraceEnv())
	master, err := pty.Start(cmd) // setsid, and the pty as controlling terminal
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
	return bufio.NewReader(master), master, cmd
}

// readUntil reads terminal output until a line contains want.
func readUntil(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	var seen strings.Builder
	done := make(chan bool, 1)
	go func() {
		for {
			line, err := r.ReadString('\n')
			seen.WriteString(line)
			if strings.Contains(line, want) {
				done <- true
				return
			}
			if err != nil {
				done <- false
				return
			}
		}
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Fatalf("terminal ended before %q; it showed:\n%s", want, seen.String())
		}
	case <-time.After(deadline):
		t.Fatalf("no %q on the terminal", want)
	}
	return seen.String()
}

// TestStdinInheritGetsTheTerminal: a child with stdin = "inherit" is the
// terminal's foreground group while it runs, so it can read what the user
// types; afterwards hazlua has the terminal back.
func TestStdinInheritGetsTheTerminal(t *testing.T) {
	r, master, cmd := ttyRun(t, `
haz.run{"sh", "-c", "echo prompt; read line; echo got:$line", stdin = "inherit"}
haz.run{"sh", "-c", "echo prompt2; read line; echo got2:$line", stdin = "inherit"}
print("after")
`)
	readUntil(t, r, "prompt")
	master.WriteString("hello\n")
	readUntil(t, r, "got:hello")
	readUntil(t, r, "prompt2")
	master.WriteString("again\n")
	readUntil(t, r, "got2:again")
	readUntil(t, r, "after")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hazlua: %v", err)
	}
}

// TestBackgroundTerminalReadFails: a child without stdin = "inherit" that
// reads the terminal anyway is stopped by SIGTTIN; hazlua fails it with a
// clear error instead of hanging.
func TestBackgroundTerminalReadFails(t *testing.T) {
	r, _, cmd := ttyRun(t, `
local r = haz.run{"sh", "-c", "read line </dev/tty", check = false}
print("result:", r.ok, r.error)
`)
	out := readUntil(t, r, "result:")
	if !strings.Contains(out, "result:\tfalse") || !strings.Contains(out, "SIGTTIN") {
		t.Errorf("want a failed result naming SIGTTIN; the terminal showed:\n%s", out)
	}
	cmd.Wait()
}

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
	r, _, cmd := ttyRun(t, `
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
