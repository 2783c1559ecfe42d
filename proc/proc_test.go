package proc

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func sh(script string) *Spec {
	return &Spec{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: os.Environ()}
}

func startWait(t *testing.T, m *Manager, opt Options, specs ...*Spec) *Group {
	t.Helper()
	g, err := m.Start(context.Background(), opt, specs...)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("group did not end")
	}
	return g
}

func TestCaptureBothStreams(t *testing.T) {
	m := NewManager(Config{})
	dir := t.TempDir()
	data := make([]byte, 16<<20)
	rand.Read(data)
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := sh(`cat "$1" & cat "$1" >&2; wait`)
	s.Args = append(s.Args, "sh", in)
	s.Stdout = Output{Kind: OutCapture}
	s.Stderr = Output{Kind: OutCapture}
	g := startWait(t, m, Options{}, s)
	p := g.Procs[0]
	if r := p.Result(); !r.OK() {
		t.Fatalf("result %v", r)
	}
	for name, c := range map[string]*Capture{"stdout": p.StdoutCapture(), "stderr": p.StderrCapture()} {
		b, err := c.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, data) {
			t.Errorf("%s: got %d bytes, want %d identical", name, len(b), len(data))
		}
	}
}

func TestPipelineExitAndSignal(t *testing.T) {
	m := NewManager(Config{})
	a := &Spec{Path: "/usr/bin/head", Args: []string{"head", "-c", "1000000", "/dev/zero"}}
	b := &Spec{Path: "/bin/cat", Args: []string{"cat"}}
	c := &Spec{Path: "/usr/bin/wc", Args: []string{"wc", "-c"}, Stdout: Output{Kind: OutCapture}}
	g := startWait(t, m, Options{}, a, b, c)
	out, _ := g.Procs[2].StdoutCapture().Bytes()
	if string(bytes.TrimSpace(out)) != "1000000" {
		t.Fatalf("wc said %q", out)
	}
	for _, p := range g.Procs {
		if r := p.Result(); !r.OK() {
			t.Errorf("%s: %v", p.Name, r)
		}
	}
}

func TestTimeoutKillsIgnoringChild(t *testing.T) {
	m := NewManager(Config{Grace: 200 * time.Millisecond})
	s := sh(`trap '' TERM; echo ready; sleep 30`)
	s.Stdout = Output{Kind: OutCapture}
	g := startWait(t, m, Options{Timeout: 100 * time.Millisecond}, s)
	r := g.Procs[0].Result()
	if !r.TimedOut || r.Signal.String() != "killed" {
		t.Fatalf("result %+v", r)
	}
}

func killPid(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
