package trace

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestRecorder(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := New(t0)
	r.Task("compile", 1, at(0), at(5), at(20), "a task slot", "succeeded")
	r.Proc("compile", []string{"cc", "-c", "a.c"}, 123, 1, at(6), at(19), "exit 0")
	r.Task("link", 1, at(20), at(20), at(30), "", "failed")
	r.Proc("", []string{"true"}, 124, 0, at(1), at(2), "exit 0")
	var nilRec *Recorder
	nilRec.Task("x", 1, t0, t0, t0, "", "") // ignored
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []Event `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	var slices []string
	meta := 0
	for _, e := range doc.TraceEvents {
		if e.Ph == "M" {
			if e.Name == "thread_name" {
				meta++
			}
			continue
		}
		slices = append(slices, e.Name)
	}
	want := []string{"wait for a task slot: compile", "true", "compile", "cc", "link"}
	if len(slices) != len(want) {
		t.Fatalf("slices %q, want %q", slices, want)
	}
	for i := range want {
		if slices[i] != want[i] {
			t.Errorf("slice %d: %q, want %q (in time order)", i, slices[i], want[i])
		}
	}
	if meta != 3 {
		t.Errorf("%d track names, want 3 (task slot 1, job slot 1, no job slot)", meta)
	}
}

// TestProcessLanes: processes that overlap in one job slot (a pipeline's
// stages) or without a slot get lanes of their own, so every track holds
// slices that never overlap.
func TestProcessLanes(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := New(t0)
	r.Proc("t", []string{"producer"}, 1, 2, at(0), at(10), "exit 0")
	r.Proc("t", []string{"consumer"}, 2, 2, at(1), at(12), "exit 0")
	r.Proc("t", []string{"after"}, 3, 2, at(12), at(13), "exit 0") // back on the first lane
	r.Proc("", []string{"a"}, 4, 0, at(0), at(5), "exit 0")
	r.Proc("", []string{"b"}, 5, 0, at(2), at(3), "exit 0")
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []Event `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	track := map[string]int{}
	names := map[int]string{}
	for _, e := range doc.TraceEvents {
		if e.Ph == "M" {
			if e.Name == "thread_name" {
				names[e.TID] = e.Args["name"].(string)
			}
			continue
		}
		track[e.Name] = e.TID
	}
	if track["producer"] != 2 || track["after"] != 2 {
		t.Errorf("producer and after on tracks %d and %d, want job slot 2's own", track["producer"], track["after"])
	}
	if c := track["consumer"]; c == 2 || names[c] != "job slot 2 (2)" {
		t.Errorf("consumer on track %d (%q), want a second lane of job slot 2", c, names[c])
	}
	if track["a"] != 0 || track["b"] == 0 || names[track["b"]] != "processes without a job slot (2)" {
		t.Errorf("a on %d, b on %d (%q): want b on a second lane of the unslotted track", track["a"], track["b"], names[track["b"]])
	}
	last := map[int]float64{}
	for _, e := range doc.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		if e.TS < last[e.TID] {
			t.Errorf("%s starts at %v on track %d before the previous slice ends (%v)", e.Name, e.TS, e.TID, last[e.TID])
		}
		last[e.TID] = e.TS + e.Dur
	}
}
