package proc

import (
	"context"
	"sync"
)

// Slots caps how many jobs run at once. The slots are numbered from 1 to
// the cap (a --trace shows each on its own track). A nil *Slots, or one
// made with n <= 0, never makes anyone wait, and its slots are numbered 0.
// Safe for use by many goroutines.
type Slots struct {
	free chan int // the numbers of the free slots
}

// NewSlots returns a cap of n jobs at once; n <= 0 means no cap.
func NewSlots(n int) *Slots {
	if n <= 0 {
		return &Slots{}
	}
	s := &Slots{free: make(chan int, n)}
	for i := 1; i <= n; i++ {
		s.free <- i
	}
	return s
}

// Acquire waits for a free slot and takes it, returning its number, or
// returns ctx.Err() when ctx is done first.
func (s *Slots) Acquire(ctx context.Context) (int, error) {
	if s == nil || s.free == nil {
		return 0, nil
	}
	select {
	case n := <-s.free:
		return n, nil
	default:
	}
	select {
	case n := <-s.free:
		return n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Release frees slot n, taken with Acquire.
func (s *Slots) Release(n int) {
	if s == nil || s.free == nil {
		return
	}
	s.free <- n
}

// job is one taken slot, shared by the groups that joined it; the slot is
// freed when the last of them ends.
type job struct {
	mu    sync.Mutex
	refs  int
	slots *Slots
	n     int // the slot's number
}

func (j *job) join() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.refs == 0 {
		return false // already freed
	}
	j.refs++
	return true
}

func (j *job) leave() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.refs--
	if j.refs == 0 {
		j.slots.Release(j.n)
	}
}
