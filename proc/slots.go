package proc

import (
	"context"
	"sync"
)

// Slots caps how many jobs run at once. A nil *Slots, or one made with
// n <= 0, never makes anyone wait. Safe for use by many goroutines.
type Slots struct {
	ch chan struct{}
}

// NewSlots returns a cap of n jobs at once; n <= 0 means no cap.
func NewSlots(n int) *Slots {
	if n <= 0 {
		return &Slots{}
	}
	return &Slots{ch: make(chan struct{}, n)}
}

// Acquire waits for a free slot and takes it, or returns ctx.Err() when
// ctx is done first.
func (s *Slots) Acquire(ctx context.Context) error {
	if s == nil || s.ch == nil {
		return nil
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release frees a slot taken with Acquire.
func (s *Slots) Release() {
	if s == nil || s.ch == nil {
		return
	}
	<-s.ch
}

// job is one taken slot, shared by the groups that joined it; the slot is
// freed when the last of them ends.
type job struct {
	mu    sync.Mutex
	refs  int
	slots *Slots
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
		j.slots.Release()
	}
}
