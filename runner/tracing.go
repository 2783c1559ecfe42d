package runner

import (
	"slices"
	"time"

	"github.com/hazlua/hazlua/internal/trace"
)

// traceState is what a run keeps for Options.Trace: when each task became
// ready, what it last waited for, and the task slot it runs in (the lowest
// free one, numbered from 1). All of it is used on Run's goroutine; a nil
// *traceState records nothing.
type traceState struct {
	rec      *trace.Recorder
	ready    []time.Time
	waited   []int32  // the wait queue that last held the task, or -1
	queuedAt []uint64 // fulls when the task became ready
	fulls    uint64   // the times dispatch found every slot taken
	// slotWaited: dispatch found every slot taken while the task was
	// ready (set when it starts).
	slotWaited []bool
	slot       []int
	free       []int // slots given back, sorted
	next       int   // the next slot never used
}

func newTraceState(rec *trace.Recorder, n int) *traceState {
	if rec == nil {
		return nil
	}
	t := &traceState{rec: rec, ready: make([]time.Time, n), waited: make([]int32, n), queuedAt: make([]uint64, n), slotWaited: make([]bool, n), slot: make([]int, n), next: 1}
	for i := range t.waited {
		t.waited[i] = -1
	}
	return t
}

// queued notes that node i became ready.
func (t *traceState) queued(i int32) {
	if t != nil {
		t.ready[i] = time.Now()
		t.queuedAt[i] = t.fulls
	}
}

// full notes that dispatch stopped because every task slot was taken: the
// ready tasks wait for one. A task that starts having waited for nothing
// (neither a slot nor a mutex or tag) shows no wait.
func (t *traceState) full() {
	if t != nil {
		t.fulls++
	}
}

// blocked notes that node i waits in wait queue q.
func (t *traceState) blocked(i, q int32) {
	if t != nil {
		t.waited[i] = q
	}
}

// started gives node i a task slot.
func (t *traceState) started(i int32, now time.Time) {
	if t == nil {
		return
	}
	if len(t.free) > 0 {
		t.slot[i], t.free = t.free[0], t.free[1:]
	} else {
		t.slot[i] = t.next
		t.next++
	}
	if t.ready[i].IsZero() {
		t.ready[i] = now
	}
	t.slotWaited[i] = t.fulls != t.queuedAt[i]
}

// ended records node i's slice and gives its slot back.
func (t *traceState) ended(s *runState, i int32, end time.Time, st Status) {
	if t == nil || t.slot[i] == 0 {
		return
	}
	waited := ""
	if t.slotWaited[i] {
		waited = "a task slot"
	}
	if q := t.waited[i]; q >= 0 {
		if q < s.tagBase {
			waited = "mutex " + s.p.mutexNames[q/2]
		} else {
			waited = "tag " + s.p.tagNames[q-s.tagBase]
		}
	}
	o := &s.out[i]
	t.rec.Task(o.Task.Name, t.slot[i], t.ready[i], o.Start, end, waited, st.String())
	k, _ := slices.BinarySearch(t.free, t.slot[i])
	t.free = slices.Insert(t.free, k, t.slot[i])
	t.slot[i] = 0
}
