package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hazlua/hazlua/internal/testutil"
)

// End-to-end tests at a terminal: hazlua runs in a new session on a
// pseudo-terminal (creack/pty), as a user at a terminal runs it.

// ttyRun runs hazlua on script in a new session whose controlling
// terminal is a pty, as a user at a terminal does, and returns the pty's
// master side and the running command.
func ttyRun(t *testing.T, script string) (*bufio.Reader, *os.File, *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hazluaBin)
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
