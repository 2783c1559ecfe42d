package cli

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hazlua/hazlua/luaapi"
)

// fakeRun is a run for the stop protocol: it records what the protocol
// asks of it, in order. Its Run returns what a stopped luaapi.Runtime
// returns once Stop is called, unless it is stuck.
type fakeRun struct {
	grace   time.Duration
	loading bool
	stuck   bool // Run never returns (until the test ends)
	mute    bool // Notify blocks (a full stderr) until the test ends
	slowEnd bool // Shutdown blocks until the test ends

	mu      sync.Mutex
	events  []string
	stopSig syscall.Signal

	stopped chan struct{} // closed by the first Stop
	lines   chan string   // Notify's lines
	end     chan struct{} // closed when the test ends
}

func newFakeRun(t *testing.T) *fakeRun {
	f := &fakeRun{grace: 5 * time.Second, stopped: make(chan struct{}), lines: make(chan string, 10), end: make(chan struct{})}
	t.Cleanup(func() { close(f.end) })
	return f
}

func (f *fakeRun) record(e string) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}

func (f *fakeRun) Events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *fakeRun) Stop(sig syscall.Signal) {
	f.record("stop " + signalName(sig))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopSig == 0 {
		f.stopSig = sig
		close(f.stopped)
	}
}

func (f *fakeRun) Kill()                { f.record("kill") }
func (f *fakeRun) Loading() bool        { return f.loading }
func (f *fakeRun) Grace() time.Duration { return f.grace }

func (f *fakeRun) Shutdown() {
	f.record("shutdown")
	if f.slowEnd {
		<-f.end
	}
}

func (f *fakeRun) Notify(line string) {
	if f.mute {
		<-f.end
		return
	}
	f.record("notify")
	f.lines <- line
}

func (f *fakeRun) Run() error {
	<-f.stopped
	if f.stuck {
		<-f.end
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &luaapi.Error{Kind: luaapi.KindStopped, Signal: f.stopSig}
}

// testTiming is quick, for the tests that wait for the bounds to pass.
var testTiming = timing{slack: time.Millisecond, shutdownWait: time.Millisecond, notifyWait: time.Millisecond}

// startSupervise runs supervise on f in a goroutine and returns the channel
// to send signals on and the one its exit status arrives on.
func startSupervise(f *fakeRun, tm timing) (chan<- os.Signal, <-chan int, *strings.Builder) {
	sigs := make(chan os.Signal, 4)
	code := make(chan int, 1)
	var stderr strings.Builder
	go func() { code <- supervise(f, sigs, errWriter{Writer: &stderr}, tm) }()
	return sigs, code, &stderr
}

func waitCode(t *testing.T, code <-chan int) int {
	t.Helper()
	select {
	case c := <-code:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("supervise did not return")
		return 0
	}
}

func waitLine(t *testing.T, f *fakeRun) string {
	t.Helper()
	select {
	case l := <-f.lines:
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("no line was written")
		return ""
	}
}

func TestStopProtocol(t *testing.T) {
	t.Run("first signal", func(t *testing.T) {
		f := newFakeRun(t)
		sigs, code, stderr := startSupervise(f, defaultTiming)
		sigs <- syscall.SIGINT
		want := "hazlua: received SIGINT, stopping; waiting up to 5s for processes to exit (again to kill them now)\n"
		if l := waitLine(t, f); l != want {
			t.Errorf("line %q, want %q", l, want)
		}
		if c := waitCode(t, code); c != 130 {
			t.Errorf("exit status %d, want 130", c)
		}
		if ev := f.Events(); !slices.Equal(ev, []string{"stop int", "notify"}) {
			t.Errorf("events %q, want the stop, then the line", ev)
		}
		if stderr.Len() != 0 {
			t.Errorf("stderr %q, want nothing more (the stop has nothing to say)", stderr.String())
		}
	})
	t.Run("second signal kills", func(t *testing.T) {
		f := newFakeRun(t)
		f.stuck = true // until the second signal is handled
		sigs, code, _ := startSupervise(f, defaultTiming)
		sigs <- syscall.SIGTERM
		waitLine(t, f)
		sigs <- syscall.SIGINT
		want := "hazlua: received SIGINT again, killing every process now\n"
		if l := waitLine(t, f); l != want {
			t.Errorf("line %q, want %q", l, want)
		}
		if ev := f.Events(); !slices.Equal(ev, []string{"stop term", "notify", "kill", "notify"}) {
			t.Errorf("events %q", ev)
		}
		select {
		case c := <-code:
			t.Errorf("supervise returned %d while the run goes on", c)
		default:
		}
	})
	t.Run("while loading", func(t *testing.T) {
		f := newFakeRun(t)
		f.loading, f.stuck = true, true
		sigs, code, _ := startSupervise(f, defaultTiming)
		sigs <- syscall.SIGHUP
		if c := waitCode(t, code); c != 129 {
			t.Errorf("exit status %d, want 129", c)
		}
		if ev := f.Events(); !slices.Equal(ev, []string{"stop hup"}) {
			t.Errorf("events %q, want only the stop (no line, no wait)", ev)
		}
	})
	t.Run("stuck run is left behind", func(t *testing.T) {
		f := newFakeRun(t)
		f.grace, f.stuck, f.slowEnd = 0, true, true
		sigs, code, _ := startSupervise(f, testTiming)
		sigs <- syscall.SIGQUIT
		if c := waitCode(t, code); c != 131 {
			t.Errorf("exit status %d, want 131", c)
		}
		// The line is written on a goroutine of its own: it may come
		// before or after the kill.
		ev := f.Events()
		if i := slices.Index(ev, "notify"); i > 0 {
			ev = slices.Delete(ev, i, i+1)
		} else {
			t.Errorf("events %q: no line after the stop", ev)
		}
		if !slices.Equal(ev, []string{"stop quit", "kill", "shutdown"}) {
			t.Errorf("events %q, want the stop, then kill and shutdown", f.Events())
		}
	})
	t.Run("full stderr", func(t *testing.T) {
		// Notify never returns: the stop happens all the same, and the
		// run's end is not held up for longer than notifyWait.
		f := newFakeRun(t)
		f.mute = true
		sigs, code, _ := startSupervise(f, testTiming)
		sigs <- syscall.SIGINT
		sigs <- syscall.SIGINT
		<-f.stopped
		if c := waitCode(t, code); c != 130 {
			t.Errorf("exit status %d, want 130", c)
		}
		if ev := f.Events(); len(ev) == 0 || ev[0] != "stop int" {
			t.Errorf("events %q, want the stop first", ev)
		}
	})
	t.Run("no signal", func(t *testing.T) {
		for _, tt := range []struct {
			err    error
			code   int
			stderr string
		}{
			{nil, 0, ""},
			{&luaapi.Error{Msg: "build.lua:1: boom"}, 1, "hazlua: build.lua:1: boom\n"},
			{&luaapi.Error{Kind: luaapi.KindLoad, Msg: "build.lua:1: syntax error near 'x'"}, 2, "hazlua: build.lua:1: syntax error near 'x'\n"},
		} {
			var stderr strings.Builder
			got := supervise(doneRun{tt.err}, make(chan os.Signal), errWriter{Writer: &stderr}, defaultTiming)
			if got != tt.code || stderr.String() != tt.stderr {
				t.Errorf("supervise = %d, stderr %q; want %d, %q", got, stderr.String(), tt.code, tt.stderr)
			}
		}
	})
}

// doneRun is a run that ends with err at once.
type doneRun struct{ err error }

func (doneRun) Stop(syscall.Signal)  {}
func (doneRun) Kill()                {}
func (doneRun) Loading() bool        { return false }
func (doneRun) Grace() time.Duration { return time.Second }
func (doneRun) Shutdown()            {}
func (doneRun) Notify(string)        {}
func (r doneRun) Run() error         { return r.err }

// TestSignalStopsHazlua: a real hazlua process (the test binary, see
// TestMain), stopped by a real SIGINT once its task says it is ready, says
// so on stderr and exits 130.
func TestSignalStopsHazlua(t *testing.T) {
	hazlua, err := exec.LookPath("hazlua")
	if err != nil {
		t.Fatalf("hazlua is not in PATH (TestMain should have put it there): %v", err)
	}
	dir := t.TempDir()
	script := `haz.task("default", function() print("ready"); haz.run{"sleep", "1000"} end)`
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hazlua, "--grace", "3s")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE="+goraceEnv(), "NO_COLOR=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "[default] ready\n" {
		t.Fatalf("first stdout line %q (%v), want the task's ready line", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("hazlua: %v, want exit status 130", err)
	}
	want := "hazlua: received SIGINT, stopping; waiting up to 3s for processes to exit (again to kill them now)\n"
	if !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant it to start with %q", stderr.String(), want)
	}
}
