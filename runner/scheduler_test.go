package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStartOrderOneJob(t *testing.T) {
	var mu sync.Mutex
	var order []string
	rec := func(name string, deps ...string) *Task {
		return &Task{Name: name, Deps: deps, Run: func(context.Context, *TaskContext) error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return nil
		}}
	}
	tests := []struct {
		targets []string
		want    []string
	}{
		{[]string{"docs", "test"}, []string{"docs", "gen", "lib", "app", "test"}},
		{[]string{"test"}, []string{"gen", "lib", "app", "test"}},
		{[]string{"all"}, []string{"gen", "lib", "app", "test", "docs"}},
		{[]string{"lib", "docs", "gen"}, []string{"lib", "docs", "gen"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.targets, ","), func(t *testing.T) {
			g := newGraph(t,
				rec("gen"), rec("lib"), rec("app", "lib", "gen"), rec("test", "app"), rec("docs"),
				agg("all", "test", "docs"))
			p := mustPlan(t, g, tt.targets...)
			for range 3 { // repeatable
				order = nil
				r := Run(context.Background(), p, Options{Jobs: 1})
				if r.Failed() {
					t.Fatalf("run failed: %v", causes(r))
				}
				if !slices.Equal(order, tt.want) {
					t.Fatalf("start order %v, want %v", order, tt.want)
				}
				var planned []string
				for _, tk := range p.Tasks() {
					if tk.Run != nil {
						planned = append(planned, tk.Name)
					}
				}
				if !slices.Equal(order, planned) {
					t.Fatalf("start order %v differs from plan order %v", order, planned)
				}
			}
		})
	}
}

func TestJobCap(t *testing.T) {
	for _, jobs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("j%d", jobs), func(t *testing.T) {
			const n = 12
			gt := newGate()
			g := NewGraph()
			var all []string
			for i := range n {
				name := fmt.Sprintf("t%02d", i)
				all = append(all, name)
				g.Add(&Task{Name: name, Run: gt.body([]string{"running"}, nil)})
			}
			// Aggregates take no slot: one on top must not change anything.
			g.Add(agg("all", all...))
			wait := runAsync(context.Background(), mustPlan(t, g, "all"), Options{Jobs: jobs})
			var running []string
			for range jobs {
				running = append(running, gt.next(t))
			}
			started := jobs
			for len(running) > 0 {
				gt.free(running[0])
				running = running[1:]
				if started < n {
					running = append(running, gt.next(t))
					started++
				}
			}
			r := wait(t)
			if r.Failed() {
				t.Fatalf("run failed: %v", causes(r))
			}
			if got := gt.maxOf("running"); got != jobs {
				t.Errorf("max concurrent tasks %d, want %d", got, jobs)
			}
		})
	}
}

func TestNoCapRunsEverythingAtOnce(t *testing.T) {
	gt := newGate()
	var tasks []*Task
	var want []string
	for i := range 20 {
		name := fmt.Sprintf("t%d", i)
		want = append(want, name)
		tasks = append(tasks, &Task{Name: name, Run: gt.body(nil, nil)})
	}
	wait := runAsync(context.Background(), mustPlan(t, newGraph(t, tasks...), want...), Options{})
	gt.expect(t, want...) // all 20 running together
	for _, n := range want {
		gt.free(n)
	}
	if r := wait(t); r.Failed() {
		t.Fatal(causes(r))
	}
}

// exclusive is a gate check: an exclusive holder of m overlaps nobody.
func mutexCheck(cur map[string]int) string {
	if cur["m.excl"] > 1 || (cur["m.excl"] > 0 && cur["m.shared"] > 0) {
		return fmt.Sprintf("mutex overlap: %d exclusive, %d shared", cur["m.excl"], cur["m.shared"])
	}
	return ""
}

func TestMutexExclusive(t *testing.T) {
	gt := newGate()
	mk := func(name, mutex string) *Task {
		keys := []string{"any"}
		if mutex != "" {
			keys = append(keys, "m.excl")
		}
		return &Task{Name: name, Mutex: mutex, Run: gt.body(keys, mutexCheck)}
	}
	g := newGraph(t, mk("a", "m"), mk("b", "m"), mk("free", ""), mk("c", "m"))
	wait := runAsync(context.Background(), mustPlan(t, g, "a", "b", "free", "c"), Options{Jobs: 4})
	gt.expect(t, "a", "free") // a task waiting for the mutex holds no slot
	gt.free("free")
	gt.free("a")
	gt.expect(t, "b") // stable order among waiters
	gt.free("b")
	gt.expect(t, "c")
	gt.free("c")
	if r := wait(t); r.Failed() {
		t.Fatal(causes(r))
	}
	if v := gt.violations(); len(v) > 0 {
		t.Error(v)
	}
	if got := gt.maxOf("m.excl"); got != 1 {
		t.Errorf("max exclusive holders %d, want 1", got)
	}
}

func TestMutexShared(t *testing.T) {
	gt := newGate()
	mk := func(name string, shared bool) *Task {
		key := "m.excl"
		if shared {
			key = "m.shared"
		}
		return &Task{Name: name, Mutex: "m", MutexShared: shared, Run: gt.body([]string{key}, mutexCheck)}
	}
	g := newGraph(t, mk("s1", true), mk("s2", true), mk("x1", false), mk("s3", true), mk("x2", false))
	wait := runAsync(context.Background(), mustPlan(t, g, "s1", "s2", "x1", "s3", "x2"), Options{})
	gt.expect(t, "s1", "s2", "s3") // shared holders overlap
	gt.free("s1")
	gt.free("s2")
	gt.free("s3")
	gt.expect(t, "x1")
	gt.free("x1")
	gt.expect(t, "x2")
	gt.free("x2")
	if r := wait(t); r.Failed() {
		t.Fatal(causes(r))
	}
	if v := gt.violations(); len(v) > 0 {
		t.Error(v)
	}
	if got := gt.maxOf("m.shared"); got != 3 {
		t.Errorf("max shared holders %d, want 3", got)
	}
}

func TestTagLimit(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("limit%d", limit), func(t *testing.T) {
			const n = 8
			gt := newGate()
			g := NewGraph()
			if err := g.Limit("net", limit); err != nil {
				t.Fatal(err)
			}
			var targets []string
			for i := range n {
				name := fmt.Sprintf("dl%d", i)
				targets = append(targets, name)
				g.Add(&Task{Name: name, Tags: []string{"net", "other"}, Run: gt.body([]string{"net"}, nil)})
			}
			g.Add(&Task{Name: "local", Tags: []string{"other"}, Run: gt.body(nil, nil)})
			targets = append(targets, "local")
			wait := runAsync(context.Background(), mustPlan(t, g, targets...), Options{})
			var running []string
			for range limit + 1 { // "local" is not capped
				if name := gt.next(t); name == "local" {
					gt.free(name)
				} else {
					running = append(running, name)
				}
			}
			started := limit
			for len(running) > 0 {
				gt.free(running[0])
				running = running[1:]
				if started < n {
					running = append(running, gt.next(t))
					started++
				}
			}
			if r := wait(t); r.Failed() {
				t.Fatal(causes(r))
			}
			if got := gt.maxOf("net"); got != limit {
				t.Errorf("max concurrent net tasks %d, want %d", got, limit)
			}
		})
	}
}

// TestMutexAndTag checks a task blocked by two things in turn: it must not
// be lost between wait queues, and others may pass it meanwhile.
func TestMutexAndTag(t *testing.T) {
	gt := newGate()
	check := func(cur map[string]int) string {
		if cur["m"] > 1 || cur["x"] > 1 {
			return fmt.Sprintf("overlap: m=%d x=%d", cur["m"], cur["x"])
		}
		return ""
	}
	g := newGraph(t,
		&Task{Name: "a", Mutex: "m", Run: gt.body([]string{"m"}, check)},
		&Task{Name: "b", Tags: []string{"x"}, Run: gt.body([]string{"x"}, check)},
		&Task{Name: "c", Mutex: "m", Tags: []string{"x"}, Run: gt.body([]string{"m", "x"}, check)},
		&Task{Name: "d", Mutex: "m", Run: gt.body([]string{"m"}, check)},
	)
	g.Limit("x", 1)
	wait := runAsync(context.Background(), mustPlan(t, g, "a", "b", "c", "d"), Options{})
	gt.expect(t, "a", "b")
	gt.free("a")
	gt.expect(t, "d") // c still waits for tag x; d may take the mutex
	gt.free("b")
	gt.free("d")
	gt.expect(t, "c")
	gt.free("c")
	if r := wait(t); r.Failed() {
		t.Fatal(causes(r))
	}
	if v := gt.violations(); len(v) > 0 {
		t.Error(v)
	}
}

// policyGraph: with two slots, "slow" and "gen" start first; gen fails
// once slow runs; slow returns when gen's failure has been handled (or
// its context is done).
func policyGraph(t *testing.T, policy Policy) *Report {
	slowStarted := make(chan struct{})
	genHandled := make(chan struct{})
	g := newGraph(t,
		&Task{Name: "slow", Run: func(ctx context.Context, _ *TaskContext) error {
			close(slowStarted)
			<-genHandled
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return nil
		}},
		&Task{Name: "gen", Run: func(ctx context.Context, _ *TaskContext) error {
			<-slowStarted
			return errors.New("build.lua:3: gen broke")
		}},
		ok("lib"),
		ok("compile", "gen"),
		ok("link", "lib", "compile"),
		ok("other"),
		agg("all", "link", "other"),
	)
	opt := Options{Jobs: 2, Policy: policy, onFinish: func(name string, s Status) {
		if name == "gen" {
			close(genHandled)
		}
	}}
	p := mustPlan(t, g, "slow", "gen", "all")
	return runAsync(context.Background(), p, opt)(t)
}

func TestPolicies(t *testing.T) {
	tests := []struct {
		policy Policy
		want   map[string]string
	}{
		{Default, map[string]string{
			"slow":    "succeeded",
			"gen":     "failed",
			"lib":     "not run (stopped after gen failed)",
			"compile": "not run (dependency gen failed)",
			"link":    "not run (dependency gen failed)",
			"other":   "not run (stopped after gen failed)",
			"all":     "not run (dependency gen failed)",
		}},
		{KeepGoing, map[string]string{
			"slow":    "succeeded",
			"gen":     "failed",
			"lib":     "succeeded",
			"compile": "not run (dependency gen failed)",
			"link":    "not run (dependency gen failed)",
			"other":   "succeeded",
			"all":     "not run (dependency gen failed)",
		}},
		{FailFast, map[string]string{
			"slow":    "cancelled (fail-fast after gen)",
			"gen":     "failed",
			"lib":     "not run (stopped after gen failed)",
			"compile": "not run (dependency gen failed)",
			"link":    "not run (dependency gen failed)",
			"other":   "not run (stopped after gen failed)",
			"all":     "not run (dependency gen failed)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			r := policyGraph(t, tt.policy)
			checkCauses(t, r, tt.want)
			if !r.Failed() || r.FirstFailure != "gen" || r.Interrupted {
				t.Errorf("Failed=%v FirstFailure=%q Interrupted=%v", r.Failed(), r.FirstFailure, r.Interrupted)
			}
			if o := r.Outcome("gen"); o.Err == nil || o.Err.Error() != "build.lua:3: gen broke" {
				t.Errorf("gen error %v", o.Err)
			}
			if o := r.Outcome("all"); o.Root != "gen" {
				t.Errorf("all: Root %q, want gen", o.Root)
			}
		})
	}
}

func TestRootCause(t *testing.T) {
	fail := func(name string, deps ...string) *Task {
		return &Task{Name: name, Deps: deps, Run: func(context.Context, *TaskContext) error {
			return errors.New(name + " broke")
		}}
	}
	g := newGraph(t,
		fail("f1"), fail("f2"), ok("fine"),
		ok("b", "f1"), ok("c", "b"),
		ok("d", "fine", "c", "f2"), // first failing dependency in order: c, whose root is f1
		ok("e", "f2", "c"),
	)
	r := Run(context.Background(), mustPlan(t, g, "d", "e"), Options{Jobs: 1, Policy: KeepGoing})
	checkCauses(t, r, map[string]string{
		"f1": "failed", "f2": "failed", "fine": "succeeded",
		"b": "not run (dependency f1 failed)",
		"c": "not run (dependency f1 failed)",
		"d": "not run (dependency f1 failed)",
		"e": "not run (dependency f2 failed)",
	})
}

func TestTimeout(t *testing.T) {
	g := newGraph(t,
		&Task{Name: "slow", Timeout: 20 * time.Millisecond, Run: func(ctx context.Context, _ *TaskContext) error {
			<-ctx.Done()
			return fmt.Errorf("build.lua:5: sleep: %w", context.Cause(ctx))
		}},
		&Task{Name: "quick", Timeout: time.Hour, Run: ok("").Run},
		ok("after", "slow"),
	)
	r := Run(context.Background(), mustPlan(t, g, "after", "quick"), Options{Policy: KeepGoing})
	checkCauses(t, r, map[string]string{
		"slow":  "timed out",
		"quick": "succeeded",
		"after": "not run (dependency slow failed)",
	})
	var te *TimeoutError
	if o := r.Outcome("slow"); !errors.As(o.Err, &te) || te.Task != "slow" || te.Timeout != 20*time.Millisecond {
		t.Errorf("slow: error %v does not wrap the TimeoutError", o.Err)
	}
}

func TestCancellation(t *testing.T) {
	type tc struct {
		name    string
		jobs    int
		tasks   func(gt *gate) []*Task
		targets []string
		running []string // wait for these to start, then cancel
		want    map[string]string
	}
	gated := func(gt *gate, name string, mod func(*Task)) *Task {
		tk := &Task{Name: name, Run: gt.body(nil, nil)}
		if mod != nil {
			mod(tk)
		}
		return tk
	}
	tests := []tc{
		{
			name:    "before start",
			tasks:   func(gt *gate) []*Task { return []*Task{gated(gt, "a", nil), agg("all", "a")} },
			targets: []string{"all"},
			want:    map[string]string{"a": "not run (interrupted)", "all": "not run (interrupted)"},
		},
		{
			name:    "running",
			tasks:   func(gt *gate) []*Task { return []*Task{gated(gt, "a", nil)} },
			targets: []string{"a"},
			running: []string{"a"},
			want:    map[string]string{"a": "interrupted"},
		},
		{
			name:    "waiting for dependencies",
			tasks:   func(gt *gate) []*Task { return []*Task{gated(gt, "a", nil), ok("b", "a")} },
			targets: []string{"b"},
			running: []string{"a"},
			want:    map[string]string{"a": "interrupted", "b": "not run (interrupted)"},
		},
		{
			name:    "ready, waiting for a slot",
			jobs:    1,
			tasks:   func(gt *gate) []*Task { return []*Task{gated(gt, "a", nil), gated(gt, "b", nil)} },
			targets: []string{"a", "b"},
			running: []string{"a"},
			want:    map[string]string{"a": "interrupted", "b": "not run (interrupted)"},
		},
		{
			name: "waiting for a mutex",
			tasks: func(gt *gate) []*Task {
				m := func(tk *Task) { tk.Mutex = "m" }
				return []*Task{gated(gt, "a", m), gated(gt, "b", m), gated(gt, "c", nil)}
			},
			targets: []string{"a", "b", "c"},
			running: []string{"a", "c"},
			want:    map[string]string{"a": "interrupted", "b": "not run (interrupted)", "c": "interrupted"},
		},
		{
			name: "waiting for a tag",
			tasks: func(gt *gate) []*Task {
				tag := func(tk *Task) { tk.Tags = []string{"one"} }
				return []*Task{gated(gt, "a", tag), gated(gt, "b", tag)}
			},
			targets: []string{"a", "b"},
			running: []string{"a"},
			want:    map[string]string{"a": "interrupted", "b": "not run (interrupted)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gt := newGate()
			g := newGraph(t, tt.tasks(gt)...)
			g.Limit("one", 1)
			p := mustPlan(t, g, tt.targets...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.running == nil {
				cancel()
			}
			wait := runAsync(ctx, p, Options{Jobs: tt.jobs})
			gt.expect(t, tt.running...)
			cancel()
			r := wait(t)
			checkCauses(t, r, tt.want)
			if !r.Interrupted || !r.Failed() {
				t.Errorf("Interrupted=%v Failed=%v, want both", r.Interrupted, r.Failed())
			}
			if r.Ran() != len(tt.running) {
				t.Errorf("Ran() = %d, want %d", r.Ran(), len(tt.running))
			}
		})
	}
}

func TestTaskContextEndsWithBody(t *testing.T) {
	var ctxs sync.Map
	keep := func(ctx context.Context, tc *TaskContext) error {
		ctxs.Store(tc.Name(), ctx)
		return nil
	}
	g := newGraph(t, &Task{Name: "a", Run: keep}, &Task{Name: "b", Timeout: time.Hour, Run: keep})
	Run(context.Background(), mustPlan(t, g, "a", "b"), Options{})
	for _, name := range []string{"a", "b"} {
		v, _ := ctxs.Load(name)
		ctx := v.(context.Context)
		if ctx.Err() == nil || !errors.Is(context.Cause(ctx), ErrTaskEnded) {
			t.Errorf("%s: context after the body returned: err %v, cause %v", name, ctx.Err(), context.Cause(ctx))
		}
	}
}

func TestBodyResults(t *testing.T) {
	tests := []struct {
		name   string
		body   func(context.Context, *TaskContext) error
		status Status
		check  func(*testing.T, *Outcome)
	}{
		{"nil", func(context.Context, *TaskContext) error { return nil }, Succeeded, nil},
		{"error", func(context.Context, *TaskContext) error { return errors.New("x") }, Failed, nil},
		{"up to date", func(context.Context, *TaskContext) error {
			return fmt.Errorf("fingerprint matches: %w", ErrUpToDate)
		}, UpToDate, func(t *testing.T, o *Outcome) {
			if o.Err != nil {
				t.Errorf("Err = %v, want nil", o.Err)
			}
		}},
		{"panic", func(context.Context, *TaskContext) error { panic("boom") }, Failed, func(t *testing.T, o *Outcome) {
			var pe *PanicError
			if !errors.As(o.Err, &pe) || pe.Value != "boom" || o.Err.Error() != "task t: panic: boom" {
				t.Errorf("Err = %v, want a PanicError", o.Err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, &Task{Name: "t", Run: tt.body}, ok("after", "t"))
			r := Run(context.Background(), mustPlan(t, g, "after"), Options{})
			o := r.Outcome("t")
			if o.Status != tt.status || !o.Ran || o.Start.IsZero() {
				t.Fatalf("status %v (ran %v), want %v", o.Status, o.Ran, tt.status)
			}
			if got := r.Outcome("after").Status; (got == Succeeded) != tt.status.OK() {
				t.Errorf("dependent: %v", got)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

func TestAggregatesOnly(t *testing.T) {
	g := newGraph(t, agg("a"), agg("b", "a"), agg("c", "a", "b"))
	r := Run(context.Background(), mustPlan(t, g, "c"), Options{Jobs: 1})
	checkCauses(t, r, map[string]string{"a": "succeeded", "b": "succeeded", "c": "succeeded"})
	if r.Ran() != 0 || r.Failed() {
		t.Errorf("Ran=%d Failed=%v", r.Ran(), r.Failed())
	}
}

func TestEmptyPlan(t *testing.T) {
	for _, p := range []*Plan{nil, {}, mustPlan(t, NewGraph())} {
		r := Run(context.Background(), p, Options{})
		if len(r.Outcomes) != 0 || r.Failed() {
			t.Errorf("empty plan: %+v", r)
		}
	}
}

func TestRunTwice(t *testing.T) {
	var mu sync.Mutex
	runs := 0
	g := newGraph(t, &Task{Name: "a", Run: func(context.Context, *TaskContext) error {
		mu.Lock()
		runs++
		mu.Unlock()
		return nil
	}})
	p := mustPlan(t, g, "a")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { Run(context.Background(), p, Options{Jobs: 1}) })
	}
	wg.Wait()
	if runs != 4 {
		t.Errorf("runs = %d, want 4", runs)
	}
}
