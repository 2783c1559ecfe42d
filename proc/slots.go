package proc

import (
	"context"
	"sync"
)

// Slots caps how many jobs run at once. The slots are numbered from 1 to
// the cap (a --trace shows each on its own track). A nil *Slots, or one
// made with n <= 0, never makes anyone wait, and its slots are numbered 0.
// Safe for use by many goroutines.
//
// Once a process asks for the GNU make jobserver (see jobserver.go), the
// free slots are also bytes in a FIFO that such processes read and write:
// hazlua's own Acquire and a child's read draw from that one pool.
type Slots struct {
	n int // the cap; 0: none

	mu      sync.Mutex
	free    []int      // numbers of the slots hazlua does not hold
	waiters []*waiter  // Acquire calls waiting, first come first served
	js      *jobserver // nil until a client asks (and after Manager.Shutdown)
	jsErr   error      // why the jobserver could not be made
}

// waiter is one Acquire waiting for a slot.
type waiter struct {
	ch chan int // receives the slot's number (buffered: the giver never waits)
}

// NewSlots returns a cap of n jobs at once; n <= 0 means no cap.
func NewSlots(n int) *Slots {
	if n <= 0 {
		return &Slots{}
	}
	s := &Slots{n: n, free: make([]int, 0, n)}
	for i := n; i >= 1; i-- {
		s.free = append(s.free, i) // 1 on top
	}
	return s
}

// Acquire waits for a free slot and takes it, returning its number, or
// returns ctx.Err() when ctx is done first. A slot free at the call is
// taken even if ctx is done.
func (s *Slots) Acquire(ctx context.Context) (int, error) {
	if s == nil || s.n == 0 {
		return 0, nil
	}
	s.mu.Lock()
	if len(s.waiters) == 0 {
		if n, ok := s.takeLocked(); ok {
			s.mu.Unlock()
			return n, nil
		}
	}
	w := &waiter{ch: make(chan int, 1)}
	s.waiters = append(s.waiters, w)
	if s.js != nil {
		s.js.kickDispatcher()
	}
	s.mu.Unlock()
	select {
	case n := <-w.ch:
		return n, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			s.mu.Unlock()
			return 0, ctx.Err()
		}
	}
	s.mu.Unlock()
	s.Release(<-w.ch) // given a slot meanwhile: give it back
	return 0, ctx.Err()
}

// takeLocked takes a free slot without waiting: from the free list, or,
// with a jobserver, by reading a token from its FIFO first.
func (s *Slots) takeLocked() (int, bool) {
	if s.js == nil {
		if len(s.free) == 0 {
			return 0, false
		}
		return s.popFree(), true
	}
	for s.js.readToken() {
		if len(s.free) > 0 {
			return s.popFree(), true
		}
		// A token that no free slot stands for (a client wrote back
		// more than it took): dropped, so the cap holds.
		s.js.dropped++
	}
	return 0, false
}

func (s *Slots) popFree() int {
	n := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	return n
}

// Release frees slot n, taken with Acquire.
func (s *Slots) Release(n int) {
	if s == nil || s.n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) > 0 {
		// Straight to the first waiter: with a jobserver, the token
		// never goes through the FIFO.
		w := s.waiters[0]
		s.waiters = s.waiters[1:]
		w.ch <- n
		return
	}
	s.free = append(s.free, n)
	if s.js != nil {
		s.js.writeTokens(1)
	}
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
