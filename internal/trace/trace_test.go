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
			meta++
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
