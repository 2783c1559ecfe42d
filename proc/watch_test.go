package proc

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAwaitedWatch: a group started with Options.Awaited (its exits learnt
// by a blocking waitid) ends, reports and is cancelled as any other, and
// past maxBlockingWatch processes the rest are watched through the poller.
func TestAwaitedWatch(t *testing.T) {
	m := NewManager(Config{Grace: 5 * time.Second})
	t.Run("exit status", func(t *testing.T) {
		g := startWait(t, m, Options{Awaited: true}, sh(`exit 7`))
		if r := g.Procs[0].Result(); r.Code != 7 || r.Signal != 0 {
			t.Errorf("result %+v; want exit status 7", r)
		}
	})
	t.Run("pipeline", func(t *testing.T) {
		a := sh(`echo one; echo two`)
		b := &Spec{Path: "/usr/bin/wc", Args: []string{"wc", "-l"}, Stdout: Output{Kind: OutCapture}}
		g := startWait(t, m, Options{Awaited: true}, a, b)
		out, err := g.Procs[1].StdoutCapture().Bytes()
		if err != nil || strings.TrimSpace(string(out)) != "2" {
			t.Errorf("wc -l said %q, %v", out, err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := sh(`echo ready; exec sleep 1000`)
		s.Stdout = Output{Kind: OutPipe}
		g, err := m.Start(ctx, Options{Awaited: true}, s)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := g.Procs[0].TakeStdout()
		defer f.Close()
		if _, err := f.Read(make([]byte, 6)); err != nil {
			t.Fatal(err)
		}
		cancel()
		waitDone(t, g)
		if r := g.Procs[0].Result(); !r.Cancelled || r.Signal != syscall.SIGTERM {
			t.Errorf("result %+v; want cancelled by SIGTERM", r)
		}
	})
	t.Run("more than the cap", func(t *testing.T) {
		// Each child waits for the end of one pipe, shared as stdin.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var gs []*Group
		for i := range maxBlockingWatch + 4 {
			fd, err := syscall.Dup(int(r.Fd()))
			if err != nil {
				t.Fatal(err)
			}
			syscall.CloseOnExec(fd)
			s := sh(`read x; exit $1`)
			s.Args = append(s.Args, "sh", strconv.Itoa(i%100))
			s.Stdin = Input{Kind: InReader, File: os.NewFile(uintptr(fd), "stdin")}
			g, err := m.Start(context.Background(), Options{Awaited: true}, s)
			if err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
		blocking := 0
		for _, g := range gs {
			if g.Procs[0].blocking {
				blocking++
			}
		}
		if blocking != maxBlockingWatch {
			t.Errorf("%d processes watched by a blocking waitid, want %d", blocking, maxBlockingWatch)
		}
		w.Close() // every child reads its end
		r.Close()
		for i, g := range gs {
			waitDone(t, g)
			if r := g.Procs[0].Result(); r.Code != i%100 {
				t.Errorf("process %d: result %+v", i, r)
			}
		}
		if n := blockingWatch.Load(); n != 0 {
			t.Errorf("%d blocking watches counted after every process was reaped", n)
		}
	})
}

// TestOrphanReaped: without SIGCHLD (no terminal), an adopted orphan that
// exits after its group ended is still reaped (by the reaper's tick):
// no zombie of it is left.
func TestOrphanReaped(t *testing.T) {
	m := NewManager(Config{})
	// The orphan leaves the group, so that the end of the group does
	// not terminate it, and exits on its own a moment later.
	pid := startDaemon(t, m, "sleep 0.3")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
			return // exited and reaped
		}
		if time.Now().After(deadline) {
			st, _ := readStat(pid)
			t.Fatalf("orphan %d still exists (state %c) long after it exited", pid, st.state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
