package proc

import (
	"bufio"
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	st, ok := readStat(pid)
	return ok && st.state != 'Z' && st.state != 'X'
}

// firstLine starts s with stdout as a pipe and returns the group and the
// first line the child prints (its "ready" line); the rest is discarded.
func firstLine(t *testing.T, m *Manager, opt Options, s *Spec) (*Group, string) {
	t.Helper()
	s.Stdout = Output{Kind: OutPipe}
	g, err := m.Start(context.Background(), opt, s)
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.Procs[0].TakeStdout()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	br := bufio.NewReader(f)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the ready line: %v", err)
	}
	go io.Copy(io.Discard, br)
	return g, strings.TrimSpace(line)
}

func waitDone(t *testing.T, g *Group) {
	t.Helper()
	select {
	case <-g.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("group did not end")
	}
}

func TestMembersLeftInGroupAreTerminated(t *testing.T) {
	m := NewManager(Config{Grace: 300 * time.Millisecond})
	for _, tc := range []struct{ name, script string }{
		{"plain", `sleep 1000 & echo $!`},
		// The grandchild ignores SIGTERM: SIGKILL after the grace.
		{"ignores TERM", `sh -c 'trap "" TERM; echo $$; exec sleep 1000' &
wait`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, line := firstLine(t, m, Options{}, sh(tc.script))
			pid, err := strconv.Atoi(line)
			if err != nil {
				t.Fatalf("ready line %q", line)
			}
			if tc.name != "plain" {
				// The leader waits for its child: end it, so the
				// grandchild is left behind in the group.
				g.Procs[0].g.mu.Lock()
				leader := g.Procs[0].Pid
				g.Procs[0].g.mu.Unlock()
				killPid(leader)
			}
			waitDone(t, g)
			if alive(pid) {
				t.Errorf("grandchild %d is still running after the group ended", pid)
			}
		})
	}
}

// startDaemon starts a process that leaves its group with setsid and
// then execs cmd, waits for the group to end, and returns the daemon's
// pid. The group's leader waits on a FIFO until the daemon has left its
// session, so that the end of the group cannot reach it.
func startDaemon(t *testing.T, m *Manager, cmd string) int {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "left")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := sh(`setsid sh -c 'echo $$; echo >"$1"; exec ` + cmd + `' sh "$1" & read x <"$1"`)
	s.Args = append(s.Args, "sh", fifo)
	g, line := firstLine(t, m, Options{}, s)
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("ready line %q", line)
	}
	waitDone(t, g)
	return pid
}

func TestShutdownSweepsDaemons(t *testing.T) {
	m := NewManager(Config{Grace: 300 * time.Millisecond})
	// The grandchild leaves the group with setsid: only the subreaper
	// sweep can find it.
	pid := startDaemon(t, m, "sleep 1000")
	if !alive(pid) {
		t.Fatalf("the daemon %d should have outlived its group", pid)
	}
	m.Shutdown()
	if alive(pid) {
		t.Errorf("daemon %d survived Shutdown", pid)
	}
}

func TestSignalAfterExit(t *testing.T) {
	m := NewManager(Config{})
	g := startWait(t, m, Options{}, sh(`exit 3`))
	sent, err := g.Signal(15)
	if sent || err != nil {
		t.Errorf("Signal after exit = %v, %v; want false, nil", sent, err)
	}
	if r := g.Procs[0].Result(); r.Code != 3 || r.OK() {
		t.Errorf("result %+v", r)
	}
}

func TestCancelTerminatesGroup(t *testing.T) {
	m := NewManager(Config{Grace: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	g, _ := firstLine(t, m, Options{}, sh(`echo ready; sleep 1000`))
	_ = g
	g2Spec := sh(`echo ready; sleep 1000`)
	g2Spec.Stdout = Output{Kind: OutPipe}
	g2, err := m.Start(ctx, Options{}, g2Spec)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := g2.Procs[0].TakeStdout()
	defer f.Close()
	if _, err := bufio.NewReader(f).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitDone(t, g2)
	r := g2.Procs[0].Result()
	if !r.Cancelled || r.Signal != 15 {
		t.Errorf("result %+v; want cancelled by SIGTERM", r)
	}
	// The group started under another context is untouched.
	select {
	case <-g.Done():
		t.Error("a group of another context ended")
	default:
	}
	g.Terminate()
	waitDone(t, g)
}

func TestJobSlots(t *testing.T) {
	m := NewManager(Config{Jobs: 1})
	first, _ := firstLine(t, m, Options{Job: true}, sh(`echo ready; sleep 1000`))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// The only slot is taken: the second Start waits, then gives up.
	if _, err := m.Start(ctx, Options{Job: true}, sh(`true`)); err == nil {
		t.Fatal("second job started while the only slot was taken")
	}
	// A start without Job never waits.
	startWait(t, m, Options{}, sh(`true`))
	first.Terminate()
	waitDone(t, first)
	startWait(t, m, Options{Job: true}, sh(`true`))
}

func TestJobSlotNumbers(t *testing.T) {
	m := NewManager(Config{Jobs: 2})
	a, _ := firstLine(t, m, Options{Job: true}, sh(`echo ready; sleep 1000`))
	b, _ := firstLine(t, m, Options{Job: true}, sh(`echo ready; sleep 1000`))
	sa, sb := a.JobSlot(), b.JobSlot()
	if sa < 1 || sa > 2 || sb < 1 || sb > 2 || sa == sb {
		t.Fatalf("slots %d and %d, want 1 and 2 in some order", sa, sb)
	}
	// A group that joins a job holds its slot; one without Job holds none.
	j := startWait(t, m, Options{Job: true, JoinJob: a}, sh(`true`))
	if j.JobSlot() != sa {
		t.Errorf("joined group holds slot %d, want %d", j.JobSlot(), sa)
	}
	if n := startWait(t, m, Options{}, sh(`true`)).JobSlot(); n != 0 {
		t.Errorf("group without Job holds slot %d, want 0", n)
	}
	// A freed slot is handed out again.
	b.Terminate()
	waitDone(t, b)
	c, _ := firstLine(t, m, Options{Job: true}, sh(`echo ready; sleep 1000`))
	if c.JobSlot() != sb {
		t.Errorf("next group holds slot %d, want the freed %d", c.JobSlot(), sb)
	}
	for _, g := range []*Group{a, c} {
		g.Terminate()
		waitDone(t, g)
	}
	if n := startWait(t, NewManager(Config{}), Options{Job: true}, sh(`true`)).JobSlot(); n != 0 {
		t.Errorf("group under no cap holds slot %d, want 0", n)
	}
}

func TestCaptureReaderStreams(t *testing.T) {
	m := NewManager(Config{})
	s := sh(`echo one; read x; echo two`)
	s.Stdin = Input{Kind: InPipe}
	s.Stdout = Output{Kind: OutCapture}
	g, err := m.Start(context.Background(), Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(g.Procs[0].StdoutCapture().NewReader())
	if l, _ := br.ReadString('\n'); l != "one\n" {
		t.Fatalf("first line %q", l)
	}
	// The child is blocked on its stdin: the line came while it ran.
	g.Procs[0].Stdin().WriteString("go\n")
	if l, _ := br.ReadString('\n'); l != "two\n" {
		t.Fatalf("second line %q", l)
	}
	if _, err := br.ReadString('\n'); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
	waitDone(t, g)
}
