package proc

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// program returns a Spec running the program name (found in PATH) with
// args.
func program(t *testing.T, name string, args ...string) *Spec {
	t.Helper()
	path, err := LookPath(name, os.Getenv("PATH"), "")
	if err != nil {
		t.Skipf("%s: %v", name, err)
	}
	return &Spec{Path: path, Args: append([]string{name}, args...)}
}

// TestPipelineRule checks StageOK, FailedStage and OK: pipefail, except
// that a stage before the last killed by SIGPIPE is ok.
func TestPipelineRule(t *testing.T) {
	m := NewManager(Config{})
	for _, c := range []struct {
		name   string
		stages []*Spec
		failed int // the index FailedStage returns, -1 for nil
		sigs   []syscall.Signal
	}{
		{"yes | head", []*Spec{program(t, "yes"), program(t, "head", "-n1")}, -1, []syscall.Signal{syscall.SIGPIPE, 0}},
		{"SIGPIPE in the middle", []*Spec{program(t, "yes"), program(t, "cat"), program(t, "head", "-c1")}, -1,
			[]syscall.Signal{syscall.SIGPIPE, syscall.SIGPIPE, 0}},
		{"last stage fails after the first is killed by SIGPIPE", []*Spec{program(t, "yes"), sh("head -n1; exit 3")}, 1,
			[]syscall.Signal{syscall.SIGPIPE, 0}},
		{"first stage fails", []*Spec{sh("exit 2"), program(t, "cat")}, 0, []syscall.Signal{0, 0}},
		{"last stage killed by SIGPIPE is not excused", []*Spec{program(t, "yes"), sh("kill -PIPE $$")}, 1,
			[]syscall.Signal{syscall.SIGPIPE, syscall.SIGPIPE}},
		{"exit status 141 is not excused", []*Spec{sh("exit 141"), program(t, "cat")}, 0, []syscall.Signal{0, 0}},
		{"one process", []*Spec{sh("exit 1")}, 0, []syscall.Signal{0}},
		{"one process killed by SIGPIPE", []*Spec{sh("kill -PIPE $$")}, 0, []syscall.Signal{syscall.SIGPIPE}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range c.stages {
				s.Stdout = Output{Kind: OutNull}
			}
			g := startWait(t, m, Options{}, c.stages...)
			for i, p := range g.Procs {
				if r := p.Result(); r.Signal != c.sigs[i] {
					t.Errorf("stage %d: %v, want signal %d", i, r, c.sigs[i])
				}
			}
			want := (*Process)(nil)
			if c.failed >= 0 {
				want = g.Procs[c.failed]
			}
			if got := g.FailedStage(); got != want {
				t.Errorf("FailedStage() = %p, want stage %d (%p)", got, c.failed, want)
			}
			if g.OK() != (c.failed < 0) {
				t.Errorf("OK() = %v, want %v", g.OK(), c.failed < 0)
			}
			for i := range g.Procs {
				if c.failed >= 0 && i > c.failed {
					break // after the failed stage: either
				}
				if want := i != c.failed; g.StageOK(i) != want {
					t.Errorf("StageOK(%d) = %v, want %v", i, !want, want)
				}
			}
		})
	}
}

// TestPipelineRuleBeforeDone checks that a group that has not ended is not
// OK.
func TestPipelineRuleBeforeDone(t *testing.T) {
	m := NewManager(Config{})
	s := sh("read x || true")
	s.Stdin = Input{Kind: InPipe}
	g, err := m.Start(context.Background(), Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if g.OK() || g.StageOK(0) || g.FailedStage() != g.Procs[0] {
		t.Errorf("before the end: OK %v, StageOK %v, FailedStage %p", g.OK(), g.StageOK(0), g.FailedStage())
	}
	g.Procs[0].CloseStdin()
	waitDone(t, g)
	if !g.OK() || g.FailedStage() != nil {
		t.Errorf("after the end: OK %v, FailedStage %p", g.OK(), g.FailedStage())
	}
}
