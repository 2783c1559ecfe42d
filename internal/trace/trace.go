// Package trace records a run as Chrome trace events (`hazlua --trace
// FILE`): one slice per task on the track of the task slot it ran in,
// with the time it waited for a slot, a mutex or a tag cap before it, and
// one slice per process on the track of the job slot it held, with its
// argv, pid and how it ended. The file opens in Perfetto
// (ui.perfetto.dev) and chrome://tracing. The format is the Trace Event
// Format's JSON object form: {"traceEvents": [...], "displayTimeUnit":
// "ms"}, complete events ("ph": "X") with microsecond timestamps.
//
// It knows nothing of tasks or processes beyond what is recorded: the
// runner and the Lua layer call it. A nil *Recorder records nothing, so
// callers need no checks.
package trace

import (
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Process ids of the two groups of tracks in the trace.
const (
	TasksPID = 1 // tracks: task slot 1, 2, ...
	JobsPID  = 2 // tracks: job slot 1, 2, ... (0: processes that take no slot)
)

// Event is one trace event, as written.
type Event struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`            // µs since the start of the run
	Dur  float64        `json:"dur,omitempty"` // µs, for "X"
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	Args map[string]any `json:"args,omitempty"`
}

// Recorder collects the events of one run. Its methods are safe for
// concurrent use; a nil *Recorder ignores every call.
type Recorder struct {
	start time.Time

	mu     sync.Mutex
	events []Event
	names  map[[2]int]bool // tracks named so far
}

// New returns a Recorder whose time 0 is start.
func New(start time.Time) *Recorder { return &Recorder{start: start, names: map[[2]int]bool{}} }

func (r *Recorder) us(t time.Time) float64 { return float64(t.Sub(r.start).Nanoseconds()) / 1e3 }

// add appends a complete event from from to to, naming its track first.
func (r *Recorder) add(pid, tid int, cat, name string, from, to time.Time, args map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := [2]int{pid, tid}; !r.names[k] {
		r.names[k] = true
		track := "task slot "
		if pid == JobsPID {
			track = "job slot "
		}
		label := track + strconv.Itoa(tid)
		if pid == JobsPID && tid == 0 {
			label = "processes without a job slot"
		}
		r.events = append(r.events, Event{Name: "thread_name", Ph: "M", PID: pid, TID: tid, Args: map[string]any{"name": label}})
	}
	dur := r.us(to) - r.us(from)
	if dur <= 0 {
		dur = 0.001 // a zero-length slice would not show
	}
	r.events = append(r.events, Event{Name: name, Cat: cat, Ph: "X", TS: r.us(from), Dur: dur, PID: pid, TID: tid, Args: args})
}

// Task records a task's part of the run on the track of task slot slot:
// a "wait" slice from ready to started (when it waited for a slot, a
// mutex or a tag cap: waitedFor says which), then the task's own slice
// until ended, with its outcome.
func (r *Recorder) Task(name string, slot int, ready, started, ended time.Time, waitedFor, outcome string) {
	if r == nil {
		return
	}
	if started.Sub(ready) > 0 {
		r.add(TasksPID, slot, "wait", "wait for "+waitedFor+": "+name, ready, started, map[string]any{"task": name, "for": waitedFor})
	}
	r.add(TasksPID, slot, "task", name, started, ended, map[string]any{"task": name, "outcome": outcome})
}

// Proc records a process (or a pipeline) on the track of its job slot
// (0: it took none): its argv, pid and how it ended ("exit 0",
// "signal term", "did not start").
func (r *Recorder) Proc(task string, argv []string, pid, slot int, started, ended time.Time, end string) {
	if r == nil {
		return
	}
	name := "process"
	if len(argv) > 0 {
		name = argv[0]
	}
	args := map[string]any{"argv": argv, "pid": pid, "end": end}
	if task != "" {
		args["task"] = task
	}
	r.add(JobsPID, slot, "process", name, started, ended, args)
}

// WriteTo writes the trace as JSON, events in time order (metadata
// first).
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	events := append([]Event(nil), r.events...)
	r.mu.Unlock()
	sort.SliceStable(events, func(i, j int) bool {
		if (events[i].Ph == "M") != (events[j].Ph == "M") {
			return events[i].Ph == "M"
		}
		return events[i].TS < events[j].TS
	})
	if events == nil {
		events = []Event{}
	}
	data, err := json.Marshal(struct {
		TraceEvents     []Event `json:"traceEvents"`
		DisplayTimeUnit string  `json:"displayTimeUnit"`
	}{events, "ms"})
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(data, '\n'))
	return int64(n), err
}
