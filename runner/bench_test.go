package runner

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/uptodate"
)

const benchTasks = 10000

func emptyBody(context.Context, *TaskContext) error { return nil }

// benchGraph builds n tasks shaped as a chain (t1 needs t0, t2 needs t1,
// ...) or a fan-out (one source, n-2 tasks needing it, one aggregate
// needing them all); with bodies or without. The target is "top".
func benchGraph(b *testing.B, shape string, n int, bodies bool) *Graph {
	b.Helper()
	g := NewGraph()
	add := func(name string, deps ...string) {
		t := &Task{Name: name, Deps: deps}
		if bodies {
			t.Run = emptyBody
		}
		if err := g.Add(t); err != nil {
			b.Fatal(err)
		}
	}
	switch shape {
	case "chain":
		add("t0")
		for i := 1; i < n-1; i++ {
			add(fmt.Sprintf("t%d", i), fmt.Sprintf("t%d", i-1))
		}
		add("top", fmt.Sprintf("t%d", n-2))
	case "fanout":
		add("src")
		deps := make([]string, 0, n-2)
		for i := range n - 2 {
			name := fmt.Sprintf("t%d", i)
			add(name, "src")
			deps = append(deps, name)
		}
		g.Add(&Task{Name: "top", Deps: deps})
	}
	return g
}

func BenchmarkPlan(b *testing.B) {
	for _, shape := range []string{"chain", "fanout"} {
		b.Run(fmt.Sprintf("%s-%d", shape, benchTasks), func(b *testing.B) {
			g := benchGraph(b, shape, benchTasks, false)
			for b.Loop() {
				if _, err := g.Plan([]string{"top"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTasks), "ns/task")
		})
	}
}

func BenchmarkRun(b *testing.B) {
	for _, bodies := range []bool{false, true} {
		for _, shape := range []string{"chain", "fanout"} {
			for _, jobs := range []int{0, 2} {
				kind := "nobody"
				if bodies {
					kind = "emptybody"
				}
				b.Run(fmt.Sprintf("%s-%s-%d-j%d", kind, shape, benchTasks, jobs), func(b *testing.B) {
					p, err := benchGraph(b, shape, benchTasks, bodies).Plan([]string{"top"})
					if err != nil {
						b.Fatal(err)
					}
					for b.Loop() {
						if r := Run(context.Background(), p, Options{Jobs: jobs}); r.Failed() {
							b.Fatal("run failed")
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTasks), "ns/task")
				})
			}
		}
	}
}

// BenchmarkRunWithOutput adds a prefixed Output (to /dev/null) and bodies
// that print one line each.
func BenchmarkRunWithOutput(b *testing.B) {
	null, err := openDevNull()
	if err != nil {
		b.Skip(err)
	}
	defer null.Close()
	o := NewOutput(null, null, Prefixed, true, false, false)
	g := NewGraph()
	deps := make([]string, 0, benchTasks)
	for i := range benchTasks {
		name := fmt.Sprintf("t%d", i)
		deps = append(deps, name)
		g.Add(&Task{Name: name, Run: func(_ context.Context, tc *TaskContext) error {
			_, err := tc.Stdout().Write([]byte("hello from a task\n"))
			return err
		}})
	}
	g.Add(&Task{Name: "top", Deps: deps})
	p, err := g.Plan([]string{"top"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Run(context.Background(), p, Options{Jobs: 2, Output: o})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTasks), "ns/task")
}

func openDevNull() (*os.File, error) { return os.OpenFile(os.DevNull, os.O_WRONLY, 0) }

// BenchmarkNoop measures a run in which every task is up to date: 1,000
// tasks of 10 inputs of 10 KiB and one output each, as the cache-noop
// benchmark of bench/ builds them, with a Store opened and closed per
// run (as hazlua does) and -j2. The script's own cost is not in it.
func BenchmarkNoop(b *testing.B) {
	const tasks, inputs = 1000, 10
	b.Chdir(b.TempDir())
	data := make([]byte, 10<<10)
	old := time.Now().Add(-time.Hour)
	g := NewGraph()
	var names []string
	for i := range tasks {
		var in []string
		for j := range inputs {
			p := fmt.Sprintf("src/f%d_%d.txt", i, j)
			os.MkdirAll("src", 0o755)
			data[0], data[1], data[2] = byte(i), byte(i>>8), byte(j)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				b.Fatal(err)
			}
			os.Chtimes(p, old, old)
			in = append(in, p)
		}
		out := fmt.Sprintf("out/o%d", i)
		name := fmt.Sprint("t", i)
		names = append(names, name)
		if err := g.Add(&Task{Name: name, Inputs: in, Outputs: []string{out}, Source: "cat",
			Run: func(context.Context, *TaskContext) error {
				os.MkdirAll("out", 0o755)
				return os.WriteFile(out, []byte(out), 0o644)
			}}); err != nil {
			b.Fatal(err)
		}
	}
	g.Add(&Task{Name: "all", Deps: names})
	p, err := g.Plan([]string{"all"})
	if err != nil {
		b.Fatal(err)
	}
	run := func() *Report {
		store := uptodate.Open(uptodate.Config{Dir: ".haz", Warn: func(m string) { b.Fatal(m) }})
		r := Run(context.Background(), p, Options{Jobs: 2, Store: store})
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
		return r
	}
	run()
	for i := range tasks {
		out := fmt.Sprintf("out/o%d", i)
		os.Chtimes(out, old, old)
	}
	run() // the outputs' stats enter the index
	b.ResetTimer()
	for b.Loop() {
		if r := run(); r.Count(UpToDate) != tasks+1 {
			b.Fatalf("%d of %d tasks up to date", r.Count(UpToDate), tasks+1)
		}
	}
}
