package runner

import (
	"context"
	"fmt"
	"os"
	"testing"
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
