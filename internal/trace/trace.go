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
	"cmp"
	"encoding/json"
	"io"
	"slices"
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
	events []Event      // task tracks: each slot runs one task at a time
	procs  []procEvent  // laid out on job-slot tracks by WriteTo
	names  map[int]bool // task tracks named so far
}

// procEvent is a process slice before it has a track: the processes of one
// job slot may overlap (a pipeline's stages), and those that hold no slot
// do, so WriteTo gives each slice a lane of its slot where it overlaps
// nothing.
type procEvent struct {
	slot int
	ev   Event
}

// New returns a Recorder whose time 0 is start.
func New(start time.Time) *Recorder { return &Recorder{start: start, names: map[int]bool{}} }

func (r *Recorder) us(t time.Time) float64 { return float64(t.Sub(r.start).Nanoseconds()) / 1e3 }

// slice returns a complete event from from to to.
func (r *Recorder) slice(pid, tid int, cat, name string, from, to time.Time, args map[string]any) Event {
	dur := r.us(to) - r.us(from)
	if dur <= 0 {
		dur = 0.001 // a zero-length slice would not show
	}
	return Event{Name: name, Cat: cat, Ph: "X", TS: r.us(from), Dur: dur, PID: pid, TID: tid, Args: args}
}

// trackName returns the metadata event naming a track.
func trackName(pid, tid int, label string) Event {
	return Event{Name: "thread_name", Ph: "M", PID: pid, TID: tid, Args: map[string]any{"name": label}}
}

// Task records a task's part of the run on the track of task slot slot:
// a "wait" slice from ready to started when it waited for a slot, a
// mutex or a tag cap (waitedFor says which; "": it waited for none), then
// the task's own slice until ended, with its outcome.
func (r *Recorder) Task(name string, slot int, ready, started, ended time.Time, waitedFor, outcome string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.names[slot] {
		r.names[slot] = true
		r.events = append(r.events, trackName(TasksPID, slot, "task slot "+strconv.Itoa(slot)))
	}
	if waitedFor != "" && started.Sub(ready) > 0 {
		r.events = append(r.events, r.slice(TasksPID, slot, "wait", "wait for "+waitedFor+": "+name, ready, started, map[string]any{"task": name, "for": waitedFor}))
	}
	r.events = append(r.events, r.slice(TasksPID, slot, "task", name, started, ended, map[string]any{"task": name, "outcome": outcome}))
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
	r.mu.Lock()
	defer r.mu.Unlock()
	r.procs = append(r.procs, procEvent{slot, r.slice(JobsPID, 0, "process", name, started, ended, args)})
}

// layOut returns the process slices on their tracks, with the tracks'
// names: each job slot's processes in time order, each on the first lane
// of its slot that is free by its start. A slot's first lane is the track
// numbered as the slot (0: no slot); further lanes are numbered from 1000.
func layOut(procs []procEvent) []Event {
	slices.SortStableFunc(procs, func(a, b procEvent) int {
		if a.slot != b.slot {
			return a.slot - b.slot
		}
		return cmp.Compare(a.ev.TS, b.ev.TS)
	})
	var out []Event
	nextTID := 1000
	var lanes []float64 // the end of each lane of the current slot
	var tids []int
	for i, p := range procs {
		if i == 0 || p.slot != procs[i-1].slot {
			lanes, tids = lanes[:0], tids[:0]
		}
		lane := slices.IndexFunc(lanes, func(end float64) bool { return end <= p.ev.TS })
		if lane < 0 {
			lane = len(lanes)
			tid := p.slot
			if lane > 0 {
				tid = nextTID
				nextTID++
			}
			lanes, tids = append(lanes, 0), append(tids, tid)
			label := "job slot " + strconv.Itoa(p.slot)
			if p.slot == 0 {
				label = "processes without a job slot"
			}
			if lane > 0 {
				label += " (" + strconv.Itoa(lane+1) + ")"
			}
			out = append(out, trackName(JobsPID, tid, label))
		}
		lanes[lane] = p.ev.TS + p.ev.Dur
		p.ev.TID = tids[lane]
		out = append(out, p.ev)
	}
	return out
}

// WriteTo writes the trace as JSON, events in time order (metadata
// first).
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	events := append([]Event(nil), r.events...)
	events = append(events, layOut(slices.Clone(r.procs))...)
	r.mu.Unlock()
	if len(events) > 0 {
		events = append(events,
			Event{Name: "process_name", Ph: "M", PID: TasksPID, Args: map[string]any{"name": "tasks"}},
			Event{Name: "process_name", Ph: "M", PID: JobsPID, Args: map[string]any{"name": "processes"}})
	}
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
