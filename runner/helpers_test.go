package runner

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// watchdog bounds every wait in the tests, so a scheduler bug fails a test
// instead of hanging the suite. It is not a speed assertion.
const watchdog = 30 * time.Second

// agg returns an aggregate task.
func agg(name string, deps ...string) *Task {
	return &Task{Name: name, Deps: deps}
}

// ok returns a task whose body succeeds at once.
func ok(name string, deps ...string) *Task {
	return &Task{Name: name, Deps: deps, Run: func(context.Context, *TaskContext) error { return nil }}
}

func newGraph(t testing.TB, tasks ...*Task) *Graph {
	t.Helper()
	g := NewGraph()
	for _, tk := range tasks {
		if err := g.Add(tk); err != nil {
			t.Fatalf("Add(%s): %v", tk.Name, err)
		}
	}
	return g
}

func mustPlan(t testing.TB, g *Graph, targets ...string) *Plan {
	t.Helper()
	p, err := g.Plan(targets)
	if err != nil {
		t.Fatalf("Plan(%v): %v", targets, err)
	}
	return p
}

func names(tasks []*Task) []string {
	var out []string
	for _, t := range tasks {
		out = append(out, t.Name)
	}
	return out
}

// causes returns name → Cause for every outcome.
func causes(r *Report) map[string]string {
	m := map[string]string{}
	for _, o := range r.Outcomes {
		m[o.Task.Name] = o.Cause
	}
	return m
}

func checkCauses(t *testing.T, r *Report, want map[string]string) {
	t.Helper()
	got := causes(r)
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("task %s: cause %q, want %q", k, got[k], want[k])
		}
	}
}

// gate lets a test start and stop fake task bodies one by one: each gated
// body reports that it started, then waits for its own release (or its
// context).
type gate struct {
	mu       sync.Mutex
	started  chan string
	releases map[string]chan struct{}
	order    []string
	cur, max map[string]int
	errs     []string
}

func newGate() *gate {
	return &gate{
		started:  make(chan string, 100000),
		releases: map[string]chan struct{}{},
		cur:      map[string]int{},
		max:      map[string]int{},
	}
}

func (g *gate) release(name string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.releases[name]
	if !ok {
		ch = make(chan struct{})
		g.releases[name] = ch
	}
	return ch
}

// body returns a gated body that counts itself under keys while it runs.
// check, if set, runs under the gate's lock after counting and returns a
// violation message or "".
func (g *gate) body(keys []string, check func(cur map[string]int) string) func(context.Context, *TaskContext) error {
	return func(ctx context.Context, tc *TaskContext) error {
		name := tc.Name()
		g.mu.Lock()
		g.order = append(g.order, name)
		for _, k := range keys {
			g.cur[k]++
			g.max[k] = max(g.max[k], g.cur[k])
		}
		if check != nil {
			if msg := check(g.cur); msg != "" {
				g.errs = append(g.errs, name+": "+msg)
			}
		}
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			for _, k := range keys {
				g.cur[k]--
			}
			g.mu.Unlock()
		}()
		g.started <- name
		select {
		case <-g.release(name):
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// expect waits until exactly the named tasks have started (in any order).
func (g *gate) expect(t *testing.T, want ...string) {
	t.Helper()
	need := map[string]bool{}
	for _, w := range want {
		need[w] = true
	}
	for len(need) > 0 {
		select {
		case name := <-g.started:
			if !need[name] {
				t.Fatalf("task %s started; waiting for %v", name, keysOf(need))
			}
			delete(need, name)
		case <-time.After(watchdog):
			t.Fatalf("watchdog: still waiting for %v to start", keysOf(need))
		}
	}
}

// next waits for any one task to start and returns its name.
func (g *gate) next(t *testing.T) string {
	t.Helper()
	select {
	case name := <-g.started:
		return name
	case <-time.After(watchdog):
		t.Fatalf("watchdog: no task started")
	}
	return ""
}

func (g *gate) free(name string) { close(g.release(name)) }

func (g *gate) maxOf(k string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max[k]
}

func (g *gate) violations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.errs...)
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runAsync runs p in the background; wait returns its report.
func runAsync(ctx context.Context, p *Plan, opt Options) (wait func(t *testing.T) *Report) {
	ch := make(chan *Report, 1)
	go func() { ch <- Run(ctx, p, opt) }()
	return func(t *testing.T) *Report {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(watchdog):
			t.Fatalf("watchdog: Run did not return")
		}
		return nil
	}
}

// tempFile returns an empty file in the test's temporary directory.
func tempFile(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Create(t.TempDir() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// contents returns what was written to f.
func contents(t *testing.T, f *os.File) string {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lines splits s on newlines, without a final empty element.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func fmtList(xs []string) string { return fmt.Sprintf("%q", xs) }
