package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
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
	if waits["b"] != "mutex m" && !strings.HasPrefix(third, "b") {
		t.Errorf("waits %v: b waited for the mutex", waits)
	}
	if w := waits[third]; w == "" {
		t.Errorf("the third task (%s) waited, but has no wait slice: %v", third, waits)
	}
}
