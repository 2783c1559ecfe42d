package proc

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// jobserverManager returns a Manager with a cap of n jobs whose FIFO is
// made under a temporary directory, shut down at the test's end.
func jobserverManager(t *testing.T, n int) *Manager {
	t.Helper()
	m := NewManager(Config{Jobs: n, TempDir: t.TempDir(), Grace: 2 * time.Second})
	t.Cleanup(m.Shutdown)
	return m
}

// tryAcquire takes a slot only if one is free now (Acquire with a done
// context takes a free slot, or fails at once).
func tryAcquire(s *Slots) (int, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := s.Acquire(ctx)
	return n, err == nil
}

// client is a jobserver client's spec: sh running script with stdin a
// pipe (each line the test writes lets it go on) and stdout a pipe.
func client(script string, mode JobserverMode) *Spec {
	s := sh(script)
	s.Jobserver = mode
	s.Stdin = Input{Kind: InPipe}
	return s
}

// TestJobserverOnePool: a client's token reads and hazlua's own Acquire
// draw from one pool of -j tokens, and a token written back serves an
// Acquire that waits for it.
func TestJobserverOnePool(t *testing.T) {
	m := jobserverManager(t, 3)
	// The client holds a job slot (its implicit token) and reads two
	// more tokens from fd 3: every slot is taken.
	g, line := firstLine(t, m, Options{Job: true}, client(
		`head -c2 <&3 >/dev/null && echo "took[$MAKEFLAGS]"; read go; printf ++ >&4; read go`, JobserverPipe))
	if want := "took[ -j3 --jobserver-auth=3,4]"; line != want {
		t.Fatalf("ready line %q, want %q", line, want)
	}
	if n, ok := tryAcquire(m.Slots()); ok {
		t.Fatalf("took slot %d while the client held every token", n)
	}
	// A second Acquire waits; the client writes its two tokens back.
	got := make(chan int, 2)
	for range 2 {
		go func() {
			n, err := m.Slots().Acquire(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- n
		}()
	}
	waitWaiters(t, m.Slots(), 2)
	if _, err := g.Procs[0].Stdin().WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	a, b := <-got, <-got
	if a == b || a < 1 || a > 3 || b < 1 || b > 3 {
		t.Errorf("slots %d and %d: want two different numbers in 1..3", a, b)
	}
	m.Slots().Release(a)
	m.Slots().Release(b)
	g.Procs[0].CloseStdin()
	waitDone(t, g)
	if lost, dropped := m.Slots().jobserverStats(); lost != 0 || dropped != 0 {
		t.Errorf("%d tokens restored, %d dropped; want none", lost, dropped)
	}
	for range 3 {
		if _, ok := tryAcquire(m.Slots()); !ok {
			t.Fatal("a slot is missing after every job ended")
		}
	}
}

// TestJobserverRestoresLostTokens: a client that dies holding tokens
// (here it exits without writing them back; the fifo form, opened by
// path) gets them back once its process group is empty.
func TestJobserverRestoresLostTokens(t *testing.T) {
	for _, mode := range []JobserverMode{JobserverPipe, JobserverFifo} {
		m := jobserverManager(t, 3)
		script := `head -c2 <&3 >/dev/null`
		if mode == JobserverFifo {
			script = `case "$MAKEFLAGS" in *--jobserver-auth=fifo:/*) ;; *) exit 9;; esac
				head -c2 "${MAKEFLAGS##*fifo:}" >/dev/null`
		}
		g := startWait(t, m, Options{Job: true}, client(script, mode))
		if r := g.Procs[0].Result(); !r.OK() {
			t.Fatalf("mode %d: the client failed: %v", mode, r)
		}
		if lost, _ := m.Slots().jobserverStats(); lost != 2 {
			t.Errorf("mode %d: %d tokens restored, want 2", mode, lost)
		}
		for i := range 3 {
			if _, ok := tryAcquire(m.Slots()); !ok {
				t.Fatalf("mode %d: slot %d of 3 is missing", mode, i+1)
			}
		}
	}
}

// TestJobserverOnlyForClients: a process that does not ask gets neither
// the fds nor MAKEFLAGS; with no cap on jobs there is no jobserver.
func TestJobserverOnlyForClients(t *testing.T) {
	m := jobserverManager(t, 2)
	// Builtins only: the shell's own fds, as it got them.
	fds := `printf "[%s]" "$MAKEFLAGS"; for fd in 3 4 5 6; do if [ -e /proc/$$/fd/$fd ]; then printf " %s" $fd; fi; done`
	for _, c := range []struct {
		m    *Manager
		mode JobserverMode
		want string
	}{
		{m, JobserverOff, "[]"},
		{m, JobserverPipe, "[ -j2 --jobserver-auth=3,4] 3 4"},
		{jobserverManager(t, 0), JobserverPipe, "[]"},
	} {
		s := sh(fds)
		s.Env = append(slices.Clone(s.Env), "MAKEFLAGS=")
		s.Jobserver = c.mode
		s.Stdout = Output{Kind: OutCapture}
		g := startWait(t, c.m, Options{}, s)
		out, _ := g.Procs[0].StdoutCapture().Bytes()
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("mode %d: %q, want %q", c.mode, got, c.want)
		}
	}
}

// TestJobserverRemovedAtShutdown: the FIFO's directory is gone once the
// manager is shut down.
func TestJobserverRemovedAtShutdown(t *testing.T) {
	tmp := t.TempDir()
	m := NewManager(Config{Jobs: 2, TempDir: tmp})
	flags, err := m.JobserverFlags(JobserverFifo)
	if err != nil || !strings.HasPrefix(flags, "-j2 --jobserver-auth=fifo:"+tmp) {
		t.Fatalf("JobserverFlags = %q, %v", flags, err)
	}
	m.Shutdown()
	if names, _ := os.ReadDir(tmp); len(names) != 0 {
		t.Errorf("left in TempDir after Shutdown: %v", names)
	}
	for range 2 { // the slots go on without the FIFO
		if _, ok := tryAcquire(m.Slots()); !ok {
			t.Fatal("a slot is missing after Shutdown")
		}
	}
}

func TestSetMakeflags(t *testing.T) {
	const flags = "-j4 --jobserver-auth=3,4"
	for _, c := range []struct{ old, want string }{
		{"", " " + flags},
		{"k", "k " + flags},
		{"ks -j8 --jobserver-auth=5,6 -- FOO=1", "ks -- FOO=1 " + flags},
		{" -j --jobserver-fds=7,8 --jobs=3 --no-print-directory", "--no-print-directory " + flags},
		{"-jx", "-jx " + flags}, // not a -j word
	} {
		env := SetMakeflags([]string{"A=1", "MAKEFLAGS=" + c.old}, flags)
		if got := Getenv(env, "MAKEFLAGS"); got != c.want {
			t.Errorf("MAKEFLAGS %q: got %q, want %q", c.old, got, c.want)
		}
		if Getenv(env, "A") != "1" {
			t.Errorf("MAKEFLAGS %q: lost A", c.old)
		}
	}
}

// waitWaiters waits until n Acquire calls wait for a slot.
func waitWaiters(t *testing.T, s *Slots, n int) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		k := len(s.waiters)
		s.mu.Unlock()
		if k == n {
			return
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%d Acquire calls wait, want %d", k, n)
		}
	}
}

// TestJobserverSlotsUnderContention: with the jobserver on, many
// goroutines acquiring (some giving up at once) and releasing never hold
// more than the cap, never share a number, and leave every slot free.
func TestJobserverSlotsUnderContention(t *testing.T) {
	m := jobserverManager(t, 3)
	if _, err := m.JobserverFlags(JobserverPipe); err != nil {
		t.Fatal(err)
	}
	s := m.Slots()
	var mu sync.Mutex
	held := map[int]bool{}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				ctx, cancel := context.WithCancel(context.Background())
				if (g+i)%5 == 0 {
					cancel()
				}
				n, err := s.Acquire(ctx)
				cancel()
				if err != nil {
					continue
				}
				mu.Lock()
				if held[n] || len(held) >= 3 {
					t.Errorf("slot %d taken while %v are held", n, held)
				}
				held[n] = true
				mu.Unlock()
				mu.Lock()
				delete(held, n)
				mu.Unlock()
				s.Release(n)
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		if _, ok := tryAcquire(s); !ok {
			t.Fatalf("slot %d of 3 is missing", i+1)
		}
	}
	if _, ok := tryAcquire(s); ok {
		t.Fatal("a fourth slot")
	}
	if lost, dropped := s.jobserverStats(); lost != 0 || dropped != 0 {
		t.Errorf("%d restored, %d dropped; want none", lost, dropped)
	}
}
