package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/trace"
)

// TestTrace: with -j2 and a mutex held by two of four tasks, every task is
// one slice on a task slot's track (slots 1 and 2 only), slices on one
// track never overlap, and the task that waited for the mutex has a wait
// slice saying so, ending when it started.
func TestTrace(t *testing.T) {
	g := newGate()
	body := g.body(nil, nil)
	tasks := []*Task{
		{Name: "a", Mutex: "m", Run: body},
		{Name: "b", Mutex: "m", Run: body},
		{Name: "c", Run: body},
		agg("all", "a", "b", "c"),
	}
	p := mustPlan(t, newGraph(t, tasks...), "all")
	rec := trace.New(time.Now())
	wait := runAsync(context.Background(), p, Options{Jobs: 2, Trace: rec})
	first := g.next(t) // a (b waits for the mutex, c takes the other slot)
	second := g.next(t)
	g.free(first)
	g.free(second)
	third := g.next(t)
	g.free(third)
	r := wait(t)
	if r.Failed() {
		t.Fatalf("run failed: %v", causes(r))
	}
	var buf bytes.Buffer
	rec.WriteTo(&buf)
	var doc struct{ TraceEvents []trace.Event }
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	type slice struct {
		name     string
		from, to float64
	}
	tracks := map[int][]slice{}
	waits := map[string]string{}
	for _, e := range doc.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		if e.PID != trace.TasksPID || e.TID < 1 || e.TID > 2 {
			t.Errorf("slice %q on pid %d track %d, want task slots 1 and 2", e.Name, e.PID, e.TID)
		}
		if e.Cat == "wait" {
			waits[e.Args["task"].(string)] = e.Args["for"].(string)
			continue
		}
		tracks[e.TID] = append(tracks[e.TID], slice{e.Name, e.TS, e.TS + e.Dur})
	}
	n := 0
	for tid, ss := range tracks {
		sort.Slice(ss, func(i, j int) bool { return ss[i].from < ss[j].from })
		for k := 1; k < len(ss); k++ {
			if ss[k].from < ss[k-1].to {
				t.Errorf("track %d: %s starts before %s ends", tid, ss[k].name, ss[k-1].name)
			}
		}
		n += len(ss)
	}
	if n != 3 {
		t.Errorf("%d task slices, want 3 (the aggregate has none): %v", n, tracks)
	}
	// The first two started at once: they waited for nothing. The third
	// is b, held back by the mutex.
	for _, name := range []string{first, second} {
		if w, ok := waits[name]; ok {
			t.Errorf("%s started at once, but has a wait slice (for %s)", name, w)
		}
	}
	if third != "b" || waits["b"] != "mutex m" {
		t.Errorf("third task %s, waits %v: want b, waiting for mutex m", third, waits)
	}
}

// TestTraceSlotWait: at -j1 the second of two ready tasks waits for the
// task slot, and its wait slice says so and ends as it starts.
func TestTraceSlotWait(t *testing.T) {
	g := newGate()
	body := g.body(nil, nil)
	p := mustPlan(t, newGraph(t, &Task{Name: "a", Run: body}, &Task{Name: "b", Run: body}), "a", "b")
	rec := trace.New(time.Now())
	wait := runAsync(context.Background(), p, Options{Jobs: 1, Trace: rec})
	first := g.next(t)
	g.free(first)
	second := g.next(t)
	g.free(second)
	wait(t)
	var buf bytes.Buffer
	rec.WriteTo(&buf)
	var doc struct{ TraceEvents []trace.Event }
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var waitEnd, start float64 = -1, -2
	for _, e := range doc.TraceEvents {
		switch {
		case e.Cat == "wait" && e.Args["task"] == first:
			t.Errorf("%s started at once but has a wait slice", first)
		case e.Cat == "wait" && e.Args["task"] == second:
			if e.Args["for"] != "a task slot" {
				t.Errorf("%s waited for %v, want a task slot", second, e.Args["for"])
			}
			waitEnd = e.TS + e.Dur
		case e.Cat == "task" && e.Name == second:
			start = e.TS
		}
	}
	if waitEnd-start > 0.01 || start-waitEnd > 0.01 {
		t.Errorf("%s's wait ends at %vµs, its slice starts at %vµs", second, waitEnd, start)
	}
}
